// One deadline per request, through the token handler: Lambda's remaining time less the margin bounds pseudonym,
// sign and every upstream call, so a hanging KMS, Maskinporten or Altinn ends in a 503 and its audit record while
// the invocation still runs. Time is a virtual clock the test moves; nothing waits on the real one.
import type { APIGatewayProxyResult } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lambdaContext } from "../../dev/api-gateway-event.ts";
import type { LambdaHandler } from "../../functions/http.ts";
import { AuditTrail } from "../../lib/audit/index.ts";
import type { PrebuiltParts } from "../../lib/broker/index.ts";
import type { PidPseudonymizer } from "../../lib/pseudonym/pseudonym-key.ts";
import type { Signer } from "../../lib/signer/signer.ts";
import { DEADLINE_MARGIN_MS } from "../../lib/upstream/deadline.ts";
import { type AuditLine, auditLines } from "../support/audit-lines.ts";
import {
  ACCOUNT,
  type BrokerFixture,
  fixtureHandler,
  roleCaller,
  startBrokerFixture,
  tokenEvent,
} from "../support/broker-fixture.ts";
import { PID_A } from "../support/pid.ts";
import { type VirtualClock, virtualClock } from "../support/virtual-clock.ts";

const SCOPE = "skatteetaten:mva";

/** Things that happen inside the broker, in order; `next()` is the first one not yet taken, or the next to come. */
function happenings() {
  const happened: number[] = [];
  const waiting: (() => void)[] = [];
  return {
    happen() {
      const waiter = waiting.shift();
      if (waiter === undefined) happened.push(1);
      else waiter();
    },
    next(): Promise<void> {
      if (happened.shift() !== undefined) return Promise.resolve();
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** A fetch that lets calls whose URL `hangs` does not match through, and holds the rest until their signal aborts. */
function hangingFetch(hangs: (url: string) => boolean) {
  const arrivals = happenings();
  const fetch: typeof globalThis.fetch = (input, init) => {
    if (!hangs(String(input))) return globalThis.fetch(input, init);
    arrivals.happen();
    const signal = init?.signal;
    return new Promise((_, reject) => {
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  };
  return { fetch, arrivals };
}

/** The fixture's signer, each signature taking the next of `durationsMs` on the virtual clock (undefined: never ends). */
function slowSigner(inner: Signer, clock: VirtualClock, durationsMs: (number | undefined)[]) {
  const signs = happenings();
  const signer: Signer = {
    async current() {
      const key = await inner.current();
      return {
        ...key,
        async sign(input) {
          signs.happen();
          const ms = durationsMs.shift();
          if (ms === undefined) return new Promise<Uint8Array>(() => undefined);
          clock.advance(ms);
          return key.sign(input);
        },
      };
    },
  };
  return { signer, signs };
}

interface Written {
  record: AuditLine;
  /** Virtual time when the record was written. */
  at: number;
}

interface Harness {
  clock: VirtualClock;
  /** Every audit record with the virtual time it was written at. */
  written: Written[];
  /** Calls POST /token with `remainingMs` of the invocation left. */
  call(
    body: unknown,
    remainingMs: number,
    identity?: ReturnType<typeof roleCaller>,
  ): Promise<APIGatewayProxyResult>;
}

let fixture: BrokerFixture;
beforeAll(async () => {
  fixture = await startBrokerFixture();
});
afterAll(() => fixture.close());

function harness(
  clock: VirtualClock,
  env: Record<string, string>,
  options: Partial<PrebuiltParts> & { fetch?: typeof globalThis.fetch },
): Harness {
  const audit = auditLines();
  const written: Written[] = [];
  const { fetch, ...prebuilt } = options;
  const handler: LambdaHandler = fixtureHandler(
    fixture,
    env,
    {
      monotonic: clock.monotonic,
      alarm: clock.alarm,
      upstream: { sleep: clock.sleep, random: () => 0.5, ...(fetch === undefined ? {} : { fetch }) },
      audit: new AuditTrail({
        write(text) {
          const before = audit.records.length;
          audit.write(text);
          for (const record of audit.records.slice(before)) written.push({ record, at: clock.now });
        },
      }),
    },
    prebuilt,
  );
  return {
    clock,
    written,
    call: (body, remainingMs, identity) =>
      handler(tokenEvent(body, identity === undefined ? {} : { identity }), {
        ...lambdaContext("token"),
        getRemainingTimeInMillis: () => Math.max(0, remainingMs - clock.now),
      }),
  };
}

const problemOf = (response: APIGatewayProxyResult) => JSON.parse(response.body) as Record<string, unknown>;

describe("one deadline per request: Lambda's remaining time less the margin", () => {
  it("with 5 s left, a hanging Maskinporten is a 503 with its audit record before the deadline", async () => {
    const clock = virtualClock();
    const maskinporten = hangingFetch((url) => url === fixture.env.MASKINPORTEN_TOKEN_URL);
    // Per attempt 8 s: only the deadline can end this attempt in time.
    const broker = harness(clock, { UPSTREAM_TIMEOUT_MS: "8000" }, { fetch: maskinporten.fetch });
    const answer = broker.call({ scope: SCOPE }, 5000);
    await maskinporten.arrivals.next();
    clock.advance(5000 - DEADLINE_MARGIN_MS);
    const response = await answer;

    expect(response.statusCode).toBe(503);
    expect(response.headers?.["Retry-After"]).toBe("1");
    expect(problemOf(response)).toMatchObject({ code: "upstream_unavailable", upstream: "maskinporten" });
    expect(broker.written).toHaveLength(1);
    const [failed] = broker.written;
    expect(failed?.at).toBe(5000 - DEADLINE_MARGIN_MS);
    expect(failed?.at).toBeLessThan(5000);
    expect(failed?.record).toMatchObject({
      event: "token_failed",
      code: "upstream_unavailable",
      reason: "Maskinporten gave no answer before the request's deadline (1 attempt(s))",
      latency_ms: 5000 - DEADLINE_MARGIN_MS,
    });
  });

  it("a slow KMS sign and a hanging Maskinporten (UPSTREAM_TIMEOUT_MS=8000, 28 s left) end at the deadline, not at Lambda's timeout", async () => {
    const clock = virtualClock();
    const maskinporten = hangingFetch((url) => url === fixture.env.MASKINPORTEN_TOKEN_URL);
    // KMS takes 2 s, then 10 s (throttled, the SDK retrying): the second attempt would end at 28.15 s.
    const { signer } = slowSigner(fixture.signer, clock, [2000, 10_000]);
    const broker = harness(clock, { UPSTREAM_TIMEOUT_MS: "8000" }, { fetch: maskinporten.fetch, signer });
    const answer = broker.call({ scope: SCOPE }, 28_000);
    await maskinporten.arrivals.next();
    expect(clock.now).toBe(2000);
    clock.advance(8000);
    await maskinporten.arrivals.next();
    expect(clock.now).toBe(10_000 + 150 + 10_000);
    // Its own timeout would come at 28.15 s, past Lambda's; the deadline comes first.
    clock.advance(28_000 - DEADLINE_MARGIN_MS - clock.now);
    const response = await answer;

    expect(response.statusCode).toBe(503);
    expect(problemOf(response)).toMatchObject({ code: "upstream_unavailable" });
    const [failed] = broker.written;
    expect(failed?.at).toBe(28_000 - DEADLINE_MARGIN_MS);
    expect(failed?.record).toMatchObject({
      event: "token_failed",
      reason: "Maskinporten gave no answer before the request's deadline (2 attempt(s))",
    });
  });

  it("a retry counts its sign: with 10 s left, a 4 s sign and a timed-out attempt start no second attempt", async () => {
    const clock = virtualClock();
    const maskinporten = hangingFetch((url) => url === fixture.env.MASKINPORTEN_TOKEN_URL);
    const { signer, signs } = slowSigner(fixture.signer, clock, [4000, 4000]);
    const broker = harness(clock, { UPSTREAM_TIMEOUT_MS: "3000" }, { fetch: maskinporten.fetch, signer });
    const answer = broker.call({ scope: SCOPE }, 10_000);
    await signs.next();
    await maskinporten.arrivals.next();
    clock.advance(3000);
    const response = await answer;

    // A second attempt (4 s sign, 3 s timeout) could not end before the deadline at 9 s: the first one's answer stands.
    expect(response.statusCode).toBe(503);
    const [failed] = broker.written;
    expect(failed?.at).toBe(7000);
    expect(failed?.record).toMatchObject({
      event: "token_failed",
      code: "upstream_unavailable",
      reason: "Maskinporten unavailable after 1 attempt(s) (last: timeout)",
    });
  });

  it("with 5 s left, a KMS sign that never answers is a 503 signing_unavailable with its audit record before the deadline", async () => {
    const clock = virtualClock();
    const maskinporten = hangingFetch(() => true);
    const { signer, signs } = slowSigner(fixture.signer, clock, [undefined]);
    const broker = harness(clock, {}, { fetch: maskinporten.fetch, signer });
    const answer = broker.call({ scope: SCOPE }, 5000);
    await signs.next();
    clock.advance(5000 - DEADLINE_MARGIN_MS);
    const response = await answer;

    expect(response.statusCode).toBe(503);
    expect(problemOf(response)).toMatchObject({
      code: "signing_unavailable",
      detail: "The grant could not be signed before the request's deadline",
    });
    const [failed] = broker.written;
    expect(failed?.at).toBe(5000 - DEADLINE_MARGIN_MS);
    expect(failed?.record).toMatchObject({ event: "token_failed", code: "signing_unavailable" });
  });

  it("with 5 s left, a pid pseudonym key that never answers is a 503 with its audit record before the deadline", async () => {
    const clock = virtualClock();
    const macs = happenings();
    const pseudonymizer: PidPseudonymizer = {
      keyRef: "arn:aws:kms:eu-north-1:111122223333:key/pid",
      pseudonym: () => {
        macs.happen();
        return new Promise<string>(() => undefined);
      },
    };
    const policy = {
      rules: [{ principal: `arn:aws:iam::${ACCOUNT}:role/person-svc`, scopes: [SCOPE], pid: true }],
    };
    const maskinporten = hangingFetch(() => true);
    const broker = harness(
      clock,
      { POLICY: JSON.stringify(policy) },
      { pseudonymizer, fetch: maskinporten.fetch },
    );
    const answer = broker.call({ scope: SCOPE, pid: PID_A }, 5000, roleCaller("person-svc"));
    await macs.next();
    clock.advance(5000 - DEADLINE_MARGIN_MS);
    const response = await answer;

    expect(response.statusCode).toBe(503);
    expect(problemOf(response)).toMatchObject({ code: "signing_unavailable" });
    expect(response.body).not.toContain("key/pid");
    const [failed] = broker.written;
    expect(failed?.at).toBe(5000 - DEADLINE_MARGIN_MS);
    expect(failed?.record).toMatchObject({
      event: "token_failed",
      code: "signing_unavailable",
      reason:
        "the pid pseudonym key (arn:aws:kms:eu-north-1:111122223333:key/pid) gave no answer before the request's deadline",
    });
  });

  it("with 5 s left, a hanging Altinn exchange is a 503 naming Altinn with its audit record before the deadline", async () => {
    const clock = virtualClock();
    const altinn = hangingFetch((url) => url === fixture.env.ALTINN_EXCHANGE_URL);
    const policy = {
      rules: [
        { principal: `arn:aws:iam::${ACCOUNT}:role/payroll-svc`, scopes: [SCOPE], exchanges: ["altinn"] },
      ],
    };
    const broker = harness(
      clock,
      { POLICY: JSON.stringify(policy), UPSTREAM_TIMEOUT_MS: "8000" },
      { fetch: altinn.fetch },
    );
    const answer = broker.call({ scope: SCOPE, exchange: "altinn" }, 5000);
    await altinn.arrivals.next();
    clock.advance(5000 - DEADLINE_MARGIN_MS);
    const response = await answer;

    expect(response.statusCode).toBe(503);
    expect(problemOf(response)).toMatchObject({ code: "upstream_unavailable", upstream: "altinn" });
    const [failed] = broker.written;
    expect(failed?.at).toBe(5000 - DEADLINE_MARGIN_MS);
    expect(failed?.record).toMatchObject({
      event: "token_failed",
      exchange: "altinn",
      reason: "Altinn gave no answer before the request's deadline (1 attempt(s))",
    });
  });

  it("a cache hit sets no alarm; a token served in time outlives its request's deadline", async () => {
    const clock = virtualClock();
    const broker = harness(clock, {}, {});
    expect((await broker.call({ scope: SCOPE }, 5000)).statusCode).toBe(200);
    const armed = clock.pendingAlarms;
    expect(armed).toBeGreaterThan(0);
    const hit = await broker.call({ scope: SCOPE }, 5000);
    expect(hit.headers?.["X-Token-Cache"]).toBe("hit");
    expect(clock.pendingAlarms).toBe(armed);
    clock.advance(10_000);
    expect((await broker.call({ scope: SCOPE }, 5000)).headers?.["X-Token-Cache"]).toBe("hit");
    expect(broker.written.map((w) => w.record.event)).toEqual([
      "token_issued",
      "token_issued",
      "token_issued",
    ]);
  });
});
