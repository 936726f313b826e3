// Maskinporten misbehaving, seen through the token handler: the documented status and code, retries within their
// bound (emulator counts) and the waits between them (an injected sleep that records them), no failure cached, a
// still-valid cached token kept.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { EmulatorFault } from "../../dev/maskinporten-emulator.ts";
import { AuditTrail } from "../../lib/audit/index.ts";
import { BACKOFF_BASE_MS } from "../../lib/contract/index.ts";
import { auditLines } from "../support/audit-lines.ts";
import { type BrokerFixture, fixtureHandler, invoke, startBrokerFixture } from "../support/broker-fixture.ts";

const TIMEOUT_MS = 300;
/** MaskinportenClient's default: the first attempt and two retries. */
const ATTEMPTS = 3;
/** Both backoff waits at their shortest (jitter 0): 100 ms, then 200 ms. */
const SHORTEST_BACKOFFS_MS = [BACKOFF_BASE_MS / 2, BACKOFF_BASE_MS];
const SCOPE = "skatteetaten:mva";

let fixture: BrokerFixture;
beforeAll(async () => {
  fixture = await startBrokerFixture();
});
afterAll(async () => {
  await fixture.close();
});
afterEach(() => {
  fixture.emulator.clearFaults();
});

/** What the broker slept between attempts, ms, instead of sleeping; the jitter is 0. */
let waits: number[] = [];
const upstream = {
  random: () => 0,
  sleep: async (ms: number) => {
    waits.push(ms);
  },
};
afterEach(() => {
  waits = [];
});

const handler = (env: Record<string, string> = {}) =>
  fixtureHandler(fixture, { UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), ...env }, { upstream });
const calls = () => fixture.emulator.grantsReceived;
const faults = (fault: EmulatorFault, n: number) => Array.from({ length: n }, () => fault);

describe("Maskinporten faults through the token handler", () => {
  const transient: { name: string; fault: EmulatorFault }[] = [
    { name: "HTTP 500", fault: { type: "status", status: 500 } },
    { name: "HTTP 502", fault: { type: "status", status: 502 } },
    { name: "HTTP 503", fault: { type: "status", status: 503 } },
    { name: "answers slower than UPSTREAM_TIMEOUT_MS", fault: { type: "delay", ms: 5 * TIMEOUT_MS } },
    { name: "reset connections", fault: { type: "drop" } },
    { name: "malformed JSON in a 200", fault: { type: "malformed-json" } },
    { name: "a non-JSON (HTML) 200", fault: { type: "non-json" } },
    { name: "a token response without expires_in", fault: { type: "missing-expires-in" } },
  ];

  it.each(transient)(
    "answers 503 upstream_unavailable after 3 attempts on $name, and caches no failure",
    async ({ fault }) => {
      const token = handler();
      const before = calls();
      fixture.emulator.injectFault(...faults(fault, ATTEMPTS));

      const failed = await invoke(token, { scope: SCOPE });
      expect(failed.status).toBe(503);
      expect(failed.body).toMatchObject({ status: 503, code: "upstream_unavailable" });
      expect(failed.headers["Content-Type"]).toBe("application/problem+json");
      expect(failed.headers["Retry-After"]).toMatch(/^[1-9]\d*$/);
      expect(JSON.stringify(failed.body)).not.toMatch(/eyJ|access_token/);
      expect(waits).toEqual(SHORTEST_BACKOFFS_MS);
      expect(calls() - before).toBe(ATTEMPTS);

      const recovered = await invoke(token, { scope: SCOPE });
      expect(recovered.status).toBe(200);
      expect(recovered.headers["X-Token-Cache"]).toBe("miss");
      expect(calls() - before).toBe(ATTEMPTS + 1);
    },
  );

  it("recovers within the retries: two 503s, then a token from the third attempt", async () => {
    const before = calls();
    fixture.emulator.injectFault(...faults({ type: "status", status: 503 }, 2));
    const answer = await invoke(handler(), { scope: SCOPE });
    expect(answer.status).toBe(200);
    expect(answer.headers["X-Token-Cache"]).toBe("miss");
    expect(waits).toEqual(SHORTEST_BACKOFFS_MS);
    expect(calls() - before).toBe(3);
  });

  it("honours 429 Retry-After between attempts and passes it on once the retries are spent", async () => {
    const before = calls();
    fixture.emulator.injectFault(...faults({ type: "status", status: 429, retryAfter: "1" }, ATTEMPTS));
    const failed = await invoke(handler(), { scope: SCOPE });
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ code: "upstream_unavailable" });
    expect(failed.headers["Retry-After"]).toBe("1");
    // Retry-After outweighs the backoff: both waits are its second.
    expect(waits).toEqual([1000, 1000]);
    expect(calls() - before).toBe(ATTEMPTS);
  });

  it("stops at once on a 429 whose Retry-After is longer than a retry may wait, and tells the caller", async () => {
    const before = calls();
    fixture.emulator.injectFault(...faults({ type: "status", status: 429, retryAfter: "120" }, ATTEMPTS));
    const token = handler();
    const failed = await invoke(token, { scope: SCOPE });
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ code: "upstream_unavailable" });
    expect(failed.headers["Retry-After"]).toBe("120");
    expect(waits).toEqual([]);
    expect(calls() - before).toBe(1);
  });

  it("answers 502 upstream_rejected on a 4xx without retrying, passing the OAuth error on; no token is cached", async () => {
    const before = calls();
    fixture.emulator.injectFault({
      type: "status",
      status: 400,
      body: JSON.stringify({ error: "invalid_scope", error_description: "MP-200 scope not on the client" }),
    });
    const token = handler({ REFUSAL_CACHE_SECONDS: "0" });
    const rejected = await invoke(token, { scope: SCOPE });
    expect(rejected.status).toBe(502);
    expect(rejected.body).toMatchObject({
      code: "upstream_rejected",
      upstream_error: "invalid_scope",
      upstream_error_description: "MP-200 scope not on the client",
    });
    expect(waits).toEqual([]);
    expect(calls() - before).toBe(1);

    const next = await invoke(token, { scope: SCOPE });
    expect(next.status).toBe(200);
    expect(next.headers["X-Token-Cache"]).toBe("miss");
    expect(calls() - before).toBe(2);
  });
});

describe("a still-valid cached token while Maskinporten is down", () => {
  it("keeps serving it, refreshes in the background without failing callers, and never serves it below min_ttl", async () => {
    let clock = 1_000_000;
    const audit = auditLines();
    const token = fixtureHandler(
      fixture,
      { UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), TOKEN_REFRESH_AHEAD_SECONDS: "15" },
      { monotonic: () => clock, audit: new AuditTrail({ write: audit.write }), upstream },
    );
    /** The failed background refresh a hit set off, once it has finished: its audit record. */
    const failedRefresh = async (refreshed: Promise<Record<string, unknown>>) =>
      expect(await refreshed).toMatchObject({ code: "upstream_unavailable", grants_signed: ATTEMPTS });
    const before = calls();
    const first = await invoke(token, { scope: SCOPE, min_ttl: 30 });
    expect(first.status).toBe(200);
    expect(first.body.expires_in).toBe(120);
    fixture.emulator.injectFault(...faults({ type: "status", status: 503 }, 100));

    // Outside the refresh-ahead window: a plain hit, no upstream call at all.
    clock += 50_000;
    const hit = await invoke(token, { scope: SCOPE, min_ttl: 30 });
    expect(hit).toMatchObject({ status: 200, headers: { "X-Token-Cache": "hit" } });
    expect(hit.body).toMatchObject({ access_token: first.body.access_token, expires_in: 70 });
    expect(calls() - before).toBe(1);

    // 40 s left, within min_ttl + refresh-ahead: served, while a background refresh fails (3 attempts).
    clock += 30_000;
    let refreshed = audit.next("token_refreshed");
    const inWindow = await invoke(token, { scope: SCOPE, min_ttl: 30 });
    expect(inWindow).toMatchObject({ status: 200, headers: { "X-Token-Cache": "hit" } });
    expect(inWindow.body).toMatchObject({ access_token: first.body.access_token, expires_in: 40 });
    await failedRefresh(refreshed);
    expect(calls() - before).toBe(1 + ATTEMPTS);
    refreshed = audit.next("token_refreshed");
    const stillServed = await invoke(token, { scope: SCOPE, min_ttl: 30 });
    expect(stillServed.body.access_token).toBe(first.body.access_token);
    expect(stillServed.headers["X-Token-Cache"]).toBe("hit");
    await failedRefresh(refreshed);
    expect(calls() - before).toBe(1 + 2 * ATTEMPTS);

    // 20 s left: below min_ttl, so it is not valid for this caller; Maskinporten is still down.
    clock += 20_000;
    const tooShort = await invoke(token, { scope: SCOPE, min_ttl: 30 });
    expect(tooShort.status).toBe(503);
    expect(tooShort.body).toMatchObject({ code: "upstream_unavailable" });
    expect(tooShort.body.access_token).toBeUndefined();
    expect(calls() - before).toBe(1 + 3 * ATTEMPTS);
    // ...but a caller content with 20 s still gets it (and sets off one more failing background refresh).
    refreshed = audit.next("token_refreshed");
    const modest = await invoke(token, { scope: SCOPE, min_ttl: 20 });
    expect(modest.body).toMatchObject({ access_token: first.body.access_token, expires_in: 20 });
    await failedRefresh(refreshed);
    expect(calls() - before).toBe(1 + 4 * ATTEMPTS);

    fixture.emulator.clearFaults();
    const upstreamBefore = calls();
    const fresh = await invoke(token, { scope: SCOPE, min_ttl: 30 });
    expect(fresh).toMatchObject({ status: 200, headers: { "X-Token-Cache": "miss" } });
    expect(fresh.body.access_token).not.toBe(first.body.access_token);
    expect(fresh.body.expires_in).toBe(120);
    expect(calls() - upstreamBefore).toBe(1);
  });
});
