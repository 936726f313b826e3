import { describe, expect, it } from "vitest";
import { UpstreamUnavailable } from "../../lib/problem/index.ts";
import { DEADLINE_MARGIN_MS, Deadline, DeadlinePassed } from "../../lib/upstream/deadline.ts";
import { retryTransient } from "../../lib/upstream/retry.ts";
import { virtualClock } from "../support/virtual-clock.ts";

const SCHEDULE = { timeoutMs: 3000, maxRetries: 2, maxWaitMs: 3000, budgetMs: 25_000 };

describe("Deadline", () => {
  it("comes Lambda's remaining time less the margin from now", () => {
    const clock = virtualClock();
    clock.advance(500);
    const deadline = Deadline.fromRemaining(5000, clock.monotonic, clock.alarm);
    expect(deadline.at).toBe(500 + 5000 - DEADLINE_MARGIN_MS);
    clock.advance(5000 - DEADLINE_MARGIN_MS - 1);
    expect(deadline.passed).toBe(false);
    clock.advance(1);
    expect(deadline.passed).toBe(true);
  });

  it("rejects work still running when it passes, and lets work that ends first through", async () => {
    const clock = virtualClock();
    const deadline = new Deadline(1000, clock.monotonic, clock.alarm);
    await expect(deadline.within(Promise.resolve("done"))).resolves.toBe("done");
    const hanging = deadline.within(new Promise<never>(() => undefined));
    clock.advance(1000);
    await expect(hanging).rejects.toBeInstanceOf(DeadlinePassed);
    await expect(deadline.within(Promise.resolve("late"))).rejects.toBeInstanceOf(DeadlinePassed);
  });

  it("aborts a call at its own timeout (TimeoutError) or at the deadline, whichever comes first", () => {
    const clock = virtualClock();
    const deadline = new Deadline(5000, clock.monotonic, clock.alarm);
    const early = deadline.callSignal(3000);
    const late = deadline.callSignal(8000);
    clock.advance(3000);
    expect((early.reason as Error).name).toBe("TimeoutError");
    expect(late.aborted).toBe(false);
    clock.advance(2000);
    expect(late.reason).toBeInstanceOf(DeadlinePassed);
  });

  it("a deadline already passed aborts at once", () => {
    const clock = virtualClock();
    const deadline = Deadline.fromRemaining(DEADLINE_MARGIN_MS - 1, clock.monotonic, clock.alarm);
    expect(deadline.signal.aborted).toBe(true);
    expect(clock.pendingAlarms).toBe(0);
    expect(deadline.callSignal(3000).reason).toBeInstanceOf(DeadlinePassed);
  });
});

describe("retryTransient under a deadline", () => {
  const clockOf = () => {
    const clock = virtualClock();
    return { clock, retry: { monotonic: clock.monotonic, random: () => 0.5, sleep: clock.sleep } };
  };

  it("starts no attempt that could not end before the deadline, counting the last attempt's length", async () => {
    const { clock, retry } = clockOf();
    const deadline = new Deadline(12_000, clock.monotonic, clock.alarm);
    const started: number[] = [];
    const attempt = async () => {
      started.push(clock.now);
      // Each attempt: a 2 s sign, then a 3 s timeout.
      clock.advance(5000);
      return { kind: "transient" as const, outcome: "timeout" };
    };
    const error = await retryTransient(attempt, SCHEDULE, retry, "maskinporten", deadline).catch((e) => e);
    // A third attempt would start at 10.45 s and take 5 s: past 12 s.
    expect(started).toEqual([0, 5150]);
    expect(error).toBeInstanceOf(UpstreamUnavailable);
    expect((error as UpstreamUnavailable).detail).toBe(
      "Maskinporten unavailable after 2 attempt(s) (last: timeout)",
    );
  });

  it("ends with the deadline when an attempt outlived it", async () => {
    const { clock, retry } = clockOf();
    const deadline = new Deadline(4000, clock.monotonic, clock.alarm);
    const attempt = async () => {
      clock.advance(4000);
      return { kind: "transient" as const, outcome: "timeout" };
    };
    const error = await retryTransient(attempt, SCHEDULE, retry, "altinn", deadline).catch((e) => e);
    expect((error as UpstreamUnavailable).detail).toBe(
      "Altinn gave no answer before the request's deadline (1 attempt(s))",
    );
  });
});
