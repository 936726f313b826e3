// What a pid costs through the token handler: the pseudonym (a KMS GenerateMac with a kms: key) is computed only
// for a request a rule could allow, so a caller without a rule can neither run up KMS calls nor evict pseudonyms.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditTrail } from "../../lib/audit/index.ts";
import type { PidPseudonymizer } from "../../lib/pseudonym/pseudonym-key.ts";
import { auditLines } from "../support/audit-lines.ts";
import {
  ACCOUNT,
  type BrokerFixture,
  fixtureHandler,
  invoke,
  roleCaller,
  startBrokerFixture,
} from "../support/broker-fixture.ts";
import { PID_A, pidOf } from "../support/pid.ts";

const SCOPE = "skatteetaten:inntektsmottak";
const POLICY = {
  rules: [
    { principal: `arn:aws:iam::${ACCOUNT}:role/person-svc`, scopes: [SCOPE], pid: true },
    { principal: `arn:aws:iam::${ACCOUNT}:role/payroll-svc`, scopes: ["skatteetaten:mva"] },
  ],
};

/** 300 distinct valid pids (people born on 1 January 1970 to 1 January 1972). */
const PEOPLE = Array.from({ length: 3 * 999 }, (_, i) => pidOf(1, 1, 1970 + (i % 3), Math.floor(i / 3)))
  .filter((pid): pid is string => pid !== undefined && pid !== PID_A)
  .slice(0, 300);

/** A pseudonymizer that counts its MACs, as KMS would bill them. */
function countingPseudonymizer(): PidPseudonymizer & { macs: string[] } {
  const macs: string[] = [];
  return {
    macs,
    keyRef: "kms:arn:aws:kms:eu-north-1:111122223333:key/pid",
    async pseudonym(pid) {
      macs.push(pid);
      return `pseudonym-${pid.length}-${macs.length}`;
    },
  };
}

let fixture: BrokerFixture;
beforeAll(async () => {
  fixture = await startBrokerFixture();
});
afterAll(() => fixture.close());

describe("the pid pseudonym is computed only when a rule could allow the request", () => {
  it("300 distinct pids from a principal with no rule cause 0 MACs and push nobody's pseudonym out of the memo", async () => {
    expect(new Set(PEOPLE).size).toBe(300);
    const pseudonymizer = countingPseudonymizer();
    const audit = auditLines();
    // The memo holds 100 people: 300 MACs of strangers would have pushed PID_A's out.
    const handler = fixtureHandler(
      fixture,
      { POLICY: JSON.stringify(POLICY), TOKEN_CACHE_MAX_ENTRIES: "100" },
      { audit: new AuditTrail({ write: audit.write }) },
      { pseudonymizer },
    );
    const person = { identity: roleCaller("person-svc") };
    expect((await invoke(handler, { scope: SCOPE, pid: PID_A }, person)).status).toBe(200);
    expect(pseudonymizer.macs).toEqual([PID_A]);

    for (const [i, pid] of PEOPLE.entries()) {
      // Half from a principal no rule names, half from one whose rule does not give it the scope.
      const identity = roleCaller(i % 2 === 0 ? "stranger-svc" : "payroll-svc");
      const answer = await invoke(handler, { scope: SCOPE, pid }, { identity });
      expect(answer.status).toBe(403);
    }
    expect(pseudonymizer.macs).toEqual([PID_A]);
    const denials = audit.records.filter((r) => r.event === "token_denied");
    expect(denials).toHaveLength(300);
    expect(denials.filter((r) => r.pid_pseudonym !== undefined)).toEqual([]);

    // PID_A's pseudonym is still remembered: no second MAC for the same person.
    const again = await invoke(handler, { scope: SCOPE, pid: PID_A }, person);
    expect(again).toMatchObject({ status: 200, headers: { "X-Token-Cache": "hit" } });
    expect(pseudonymizer.macs).toEqual([PID_A]);
    expect(audit.records.at(-1)).toMatchObject({ event: "token_issued", pid_pseudonym: "pseudonym-11-1" });
  });

  it("a denial for the pid itself still carries the pseudonym", async () => {
    const pseudonymizer = countingPseudonymizer();
    const audit = auditLines();
    const handler = fixtureHandler(
      fixture,
      { POLICY: JSON.stringify(POLICY) },
      { audit: new AuditTrail({ write: audit.write }) },
      { pseudonymizer },
    );
    // payroll-svc may have skatteetaten:mva, but not with a pid: the pid alone is what is denied.
    const answer = await invoke(handler, { scope: "skatteetaten:mva", pid: PID_A });
    expect(answer).toMatchObject({ status: 403, body: { code: "access_denied" } });
    expect(pseudonymizer.macs).toEqual([PID_A]);
    expect(audit.records.at(-1)).toMatchObject({ event: "token_denied", pid_pseudonym: "pseudonym-11-1" });
  });
});
