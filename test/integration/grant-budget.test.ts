// The per-principal grant budget through the token handler, against the emulator, on a clock the test moves.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditTrail } from "../../lib/audit/index.ts";
import { type AuditLines, auditLines } from "../support/audit-lines.ts";
import {
  type BrokerFixture,
  fixtureHandler,
  invoke,
  registerBrokerClient,
  roleCaller,
  startBrokerFixture,
} from "../support/broker-fixture.ts";

/** 60 scopes the policy gives payroll-* (bench:*) and the emulator grants: 60 distinct cache keys. */
const SCOPES = Array.from({ length: 60 }, (_, i) => `bench:budget-${i}`);
const OTHER = roleCaller("payroll-batch");

let fixture: BrokerFixture;
beforeAll(async () => {
  fixture = await startBrokerFixture();
  await registerBrokerClient(fixture.emulator, fixture.signer, [...SCOPES, "bench:other"]);
});
afterAll(() => fixture.close());

/** A handler whose broker runs on a clock that stands still unless the test moves it. */
function budgeted(perMinute: number, env: Record<string, string> = {}) {
  let clock = 1_000_000;
  const audit = auditLines();
  const handler = fixtureHandler(
    fixture,
    { GRANTS_PER_PRINCIPAL_PER_MINUTE: String(perMinute), ...env },
    { monotonic: () => clock, audit: new AuditTrail({ write: audit.write }) },
  );
  return {
    handler,
    audit,
    advance(seconds: number) {
      clock += seconds * 1000;
    },
  };
}

const denials = (audit: AuditLines) => audit.records.filter((r) => r.event === "token_denied");

describe("each principal has a grant budget", () => {
  it("60 distinct misses at GRANTS_PER_PRINCIPAL_PER_MINUTE=20: at most 20 grants, the rest 429 with Retry-After; another principal and a cache hit are still served", async () => {
    const { handler, audit } = budgeted(20);
    const before = fixture.emulator.grantsReceived;
    const answers = [];
    for (const scope of SCOPES) answers.push(await invoke(handler, { scope }));

    expect(fixture.emulator.grantsReceived - before).toBeLessThanOrEqual(20);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(20);
    const limited = answers.filter((a) => a.status !== 200);
    expect(limited).toHaveLength(40);
    for (const answer of limited) {
      expect(answer.status).toBe(429);
      expect(answer.headers["Content-Type"]).toBe("application/problem+json");
      expect(answer.headers["Retry-After"]).toBe("3");
      expect(answer.body).toMatchObject({ status: 429, code: "rate_limited" });
    }
    expect(denials(audit)).toHaveLength(40);
    expect(denials(audit).every((r) => r.code === "rate_limited" && r.grant_jti === undefined)).toBe(true);

    const other = await invoke(handler, { scope: "bench:other" }, { identity: OTHER });
    expect(other).toMatchObject({ status: 200, headers: { "X-Token-Cache": "miss" } });
    const hit = await invoke(handler, { scope: SCOPES[0] });
    expect(hit).toMatchObject({ status: 200, headers: { "X-Token-Cache": "hit" } });
    expect(fixture.emulator.grantsReceived - before).toBe(21);
  });

  it("the budget refills at its rate: one grant every 60/N seconds", async () => {
    const { handler, advance } = budgeted(20);
    for (const scope of SCOPES.slice(0, 20)) expect((await invoke(handler, { scope })).status).toBe(200);
    expect((await invoke(handler, { scope: SCOPES[20] })).status).toBe(429);
    advance(2);
    expect((await invoke(handler, { scope: SCOPES[20] })).headers["Retry-After"]).toBe("1");
    advance(1);
    expect((await invoke(handler, { scope: SCOPES[20] })).status).toBe(200);
    expect((await invoke(handler, { scope: SCOPES[21] })).status).toBe(429);
  });

  it("retries within one request spend one grant of the budget", async () => {
    const { handler, audit } = budgeted(2, { UPSTREAM_TIMEOUT_MS: "2000" });
    fixture.emulator.injectFault({ type: "status", status: 503 }, { type: "status", status: 503 });
    expect((await invoke(handler, { scope: SCOPES[0] })).status).toBe(200);
    expect(audit.records.at(-1)).toMatchObject({ event: "token_issued", grants_signed: 3 });
    expect((await invoke(handler, { scope: SCOPES[1] })).status).toBe(200);
    expect((await invoke(handler, { scope: SCOPES[2] })).status).toBe(429);
  });

  it("a refresh set off by a caller's hit spends that caller's budget; past it the cached token is served, not renewed", async () => {
    const { handler, audit, advance } = budgeted(1, { TOKEN_REFRESH_AHEAD_SECONDS: "15" });
    const first = await invoke(handler, { scope: SCOPES[0], min_ttl: 50 });
    expect(first.status).toBe(200);
    // 60 s left, half the lifetime old: inside min_ttl + refresh-ahead. The budget (1 a minute) is back, and spent
    // at once by another miss of the same caller.
    advance(60);
    expect((await invoke(handler, { scope: SCOPES[1] })).status).toBe(200);
    const refreshed = audit.next("token_refreshed");
    const hit = await invoke(handler, { scope: SCOPES[0], min_ttl: 50 });
    expect(hit).toMatchObject({ status: 200, headers: { "X-Token-Cache": "hit" } });
    expect(hit.body.access_token).toBe(first.body.access_token);
    expect(await refreshed).toMatchObject({ code: "rate_limited", cache: "refresh" });
    expect((await refreshed).grant_jti).toBeUndefined();
  });

  it("a principal past its budget never refuses another principal waiting on the same load, nor names itself to it", async () => {
    const { handler, audit } = budgeted(1);
    expect((await invoke(handler, { scope: SCOPES[0] })).status).toBe(200);
    const [spent, waiting] = await Promise.all([
      invoke(handler, { scope: SCOPES[1] }),
      invoke(handler, { scope: SCOPES[1] }, { identity: OTHER }),
    ]);
    expect(spent).toMatchObject({ status: 429, body: { code: "rate_limited" } });
    expect(waiting).toMatchObject({ status: 200 });
    expect(JSON.stringify(waiting.body)).not.toContain("payroll-svc");
    const issued = audit.records.filter(
      (r) => r.event === "token_issued" && JSON.stringify(r.scopes) === JSON.stringify([SCOPES[1]]),
    );
    expect(issued.map((r) => r.principal)).toEqual([`arn:aws:iam::111122223333:role/payroll-batch`]);
  });

  it("GRANTS_PER_PRINCIPAL_PER_MINUTE=0 turns the budget off", async () => {
    const { handler } = budgeted(0);
    for (const scope of SCOPES.slice(0, 30)) expect((await invoke(handler, { scope })).status).toBe(200);
  });
});
