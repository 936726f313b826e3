// Altinn calls bounded like grants, through the token handler against the emulator: every call to Altinn spends the
// principal's grant budget, and Altinn's refusals are remembered per request as Maskinporten's are.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AuditTrail } from "../../lib/audit/index.ts";
import { auditLines } from "../support/audit-lines.ts";
import {
  ACCOUNT,
  type BrokerFixture,
  fixtureHandler,
  invoke,
  registerBrokerClient,
  roleCaller,
  startBrokerFixture,
} from "../support/broker-fixture.ts";

/** 40 scope sets the emulator grants and the policy allows: 40 distinct exchange requests. */
const SCOPES = Array.from({ length: 40 }, (_, i) => `altinn:bounds-${i}`);
const POLICY = {
  rules: [
    { principal: `arn:aws:iam::${ACCOUNT}:role/altinn-svc`, scopes: ["altinn:*"], exchanges: ["altinn"] },
  ],
};
const ALTINN_SVC = { identity: roleCaller("altinn-svc") };
const BUDGET = 2;

let fixture: BrokerFixture;
beforeAll(async () => {
  fixture = await startBrokerFixture();
  await registerBrokerClient(fixture.emulator, fixture.signer, SCOPES);
});
afterAll(() => fixture.close());
afterEach(() => fixture.emulator.altinn.clearFaults());

/** A handler on a clock that stands still (the budget never refills), retries without waiting. */
function bounded(env: Record<string, string> = {}) {
  const clock = 1_000_000;
  const audit = auditLines();
  const handler = fixtureHandler(
    fixture,
    { POLICY: JSON.stringify(POLICY), GRANTS_PER_PRINCIPAL_PER_MINUTE: String(BUDGET), ...env },
    {
      monotonic: () => clock,
      upstream: { sleep: async () => undefined },
      audit: new AuditTrail({ write: audit.write }),
    },
  );
  return { handler, audit };
}

const altinnCalls = () => fixture.emulator.altinn.requests.length;

describe("Altinn calls are bounded like grants", () => {
  it.each([401, 503])(
    "40 exchange requests past the budget are 429 and reach Altinn at most budget times (Altinn answering %i)",
    async (status) => {
      const { handler, audit } = bounded();
      fixture.emulator.altinn.injectFault(
        ...Array.from({ length: 120 }, () => ({ type: "status", status }) as const),
      );
      const before = { altinn: altinnCalls(), grants: fixture.emulator.grantsReceived };
      // The first request spends the budget: one grant, then one call to Altinn (a retry would need a third).
      const first = await invoke(handler, { scope: "altinn:x", exchange: "altinn" }, ALTINN_SVC);
      expect(first.status).toBe(status === 401 ? 502 : 429);
      const answers = [];
      for (const scope of SCOPES)
        answers.push(await invoke(handler, { scope, exchange: "altinn" }, ALTINN_SVC));

      expect(answers.map((a) => a.status)).toEqual(Array(40).fill(429));
      for (const answer of answers) {
        expect(answer.body).toMatchObject({ code: "rate_limited" });
        expect(Number(answer.headers["Retry-After"])).toBeGreaterThan(0);
      }
      const spent = altinnCalls() - before.altinn + (fixture.emulator.grantsReceived - before.grants);
      expect(spent).toBeLessThanOrEqual(BUDGET);
      expect(altinnCalls() - before.altinn).toBe(1);
      expect(audit.records.filter((r) => r.code === "rate_limited")).toHaveLength(status === 401 ? 40 : 41);
    },
  );

  it("30 identical exchange requests that Altinn refuses (401) reach Altinn once, each answered the same 502", async () => {
    const { handler, audit } = bounded({ GRANTS_PER_PRINCIPAL_PER_MINUTE: "600" });
    fixture.emulator.altinn.injectFault(
      ...Array.from({ length: 30 }, () => ({ type: "status", status: 401 }) as const),
    );
    const before = altinnCalls();
    const answers = [];
    for (let i = 0; i < 30; i++) {
      answers.push(await invoke(handler, { scope: "altinn:x", exchange: "altinn" }, ALTINN_SVC));
    }
    expect(altinnCalls() - before).toBe(1);
    for (const answer of answers) {
      expect(answer.status).toBe(502);
      expect(answer.body).toMatchObject({ code: "upstream_rejected", upstream: "altinn" });
      expect(answer.body.detail).toBe(answers[0]?.body.detail);
    }
    const failed = audit.records.filter((r) => r.event === "token_failed");
    expect(failed.map((r) => r.cache ?? null)).toEqual([null, ...Array(29).fill("refused")]);
  });

  it("an Altinn refusal belongs to the exchange: the same request without exchange is still served", async () => {
    const both = {
      rules: [
        ...POLICY.rules,
        { principal: `arn:aws:iam::${ACCOUNT}:role/altinn-svc`, scopes: ["altinn:*"] },
      ],
    };
    const { handler } = bounded({ GRANTS_PER_PRINCIPAL_PER_MINUTE: "600", POLICY: JSON.stringify(both) });
    fixture.emulator.altinn.injectFault({ type: "status", status: 403 });
    const request = { scope: SCOPES[0], exchange: "altinn" };
    expect((await invoke(handler, request, ALTINN_SVC)).status).toBe(502);
    expect((await invoke(handler, request, ALTINN_SVC)).body).toMatchObject({ upstream: "altinn" });
    expect((await invoke(handler, { scope: SCOPES[0] }, ALTINN_SVC)).status).toBe(200);
  });
});
