import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalisePrincipal } from "../../lib/policy/index.ts";

const account = fc.stringMatching(/^\d{12}$/);
const name = fc.stringMatching(/^[\w+=,.@-]{1,64}$/);
const session = fc.stringMatching(/^[\w+=,.@/-]{2,64}$/);

describe("normalisePrincipal", () => {
  it("turns an assumed-role session ARN into the role ARN and keeps the session", () => {
    expect(normalisePrincipal("arn:aws:sts::111122223333:assumed-role/payroll-svc/i-0abc")).toEqual({
      arn: "arn:aws:iam::111122223333:role/payroll-svc",
      session: "i-0abc",
    });
  });

  it("keeps the partition, and any assumed-role ARN maps to its role name and session", () => {
    fc.assert(
      fc.property(fc.constantFrom("aws", "aws-us-gov", "aws-cn"), account, name, session, (p, acct, n, s) => {
        expect(normalisePrincipal(`arn:${p}:sts::${acct}:assumed-role/${n}/${s}`)).toEqual({
          arn: `arn:${p}:iam::${acct}:role/${n}`,
          session: s,
        });
      }),
    );
  });

  it("drops a role path (STS ARNs carry none) and leaves users and other ARNs alone", () => {
    expect(normalisePrincipal("arn:aws:iam::111122223333:role/service/team/payroll")).toEqual({
      arn: "arn:aws:iam::111122223333:role/payroll",
    });
    expect(normalisePrincipal("arn:aws:iam::111122223333:user/ops/alice")).toEqual({
      arn: "arn:aws:iam::111122223333:user/ops/alice",
    });
  });

  it("is idempotent", () => {
    fc.assert(
      fc.property(account, name, session, (acct, n, s) => {
        const once = normalisePrincipal(`arn:aws:sts::${acct}:assumed-role/${n}/${s}`);
        expect(normalisePrincipal(once.arn)).toEqual({ arn: once.arn });
      }),
    );
  });
});
