import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IAM_NAME } from "../../lib/policy/arn.ts";
import { formatArn, normalisePrincipal, parseArn } from "../../lib/policy/index.ts";

const account = fc.stringMatching(/^\d{12}$/);
const name = fc.stringMatching(/^[\w+=,.@-]{1,64}$/);
const session = fc.stringMatching(/^[\w+=,.@/-]{2,64}$/);
const arnOf = (principal: { arn: string }) => principal.arn;

describe("normalisePrincipal", () => {
  it("turns an assumed-role session ARN into the role ARN and keeps the session", () => {
    expect(normalisePrincipal("arn:aws:sts::111122223333:assumed-role/payroll-svc/i-0abc")).toMatchObject({
      arn: "arn:aws:iam::111122223333:role/payroll-svc",
      session: "i-0abc",
    });
  });

  it("keeps the partition, and any assumed-role ARN maps to its role name and session", () => {
    fc.assert(
      fc.property(fc.constantFrom("aws", "aws-us-gov", "aws-cn"), account, name, session, (p, acct, n, s) => {
        expect(normalisePrincipal(`arn:${p}:sts::${acct}:assumed-role/${n}/${s}`)).toMatchObject({
          arn: `arn:${p}:iam::${acct}:role/${n}`,
          session: s,
        });
      }),
    );
  });

  it("drops a role path (STS ARNs carry none) and leaves users and other ARNs alone", () => {
    expect(arnOf(normalisePrincipal("arn:aws:iam::111122223333:role/service/team/payroll"))).toBe(
      "arn:aws:iam::111122223333:role/payroll",
    );
    expect(normalisePrincipal("arn:aws:iam::111122223333:user/ops/alice")).toEqual({
      kind: "arn",
      arn: "arn:aws:iam::111122223333:user/ops/alice",
      fields: expect.objectContaining({ resourceType: "user", resourceName: "ops/alice" }),
    });
    expect(normalisePrincipal("not-an-arn")).toEqual({ kind: "unparsed", arn: "not-an-arn" });
  });

  it("takes only an STS assumed-role ARN with a role and a session for a session", () => {
    for (const arn of [
      "arn:aws:iam::111122223333:assumed-role/payroll-svc/i-0abc",
      "arn:aws:sts::111122223333:federated-user/payroll-svc/i-0abc",
      "arn:aws:sts::111122223333:assumed-role/payroll-svc",
      "arn:aws:sts::111122223333:assumed-role/payroll-svc/",
      "arn:aws:sts::111122223333:assumed-role//i-0abc",
    ]) {
      const principal = normalisePrincipal(arn);
      expect(principal.arn, arn).toBe(arn);
      expect(principal, arn).not.toHaveProperty("session");
    }
  });

  it("drops the path of an IAM role only, not of another service's role-typed resource", () => {
    expect(arnOf(normalisePrincipal("arn:aws:sts::111122223333:role/team/payroll"))).toBe(
      "arn:aws:sts::111122223333:role/team/payroll",
    );
  });

  it("is idempotent", () => {
    fc.assert(
      fc.property(account, name, session, (acct, n, s) => {
        const once = normalisePrincipal(`arn:aws:sts::${acct}:assumed-role/${n}/${s}`);
        // The session stays behind: the role ARN alone is normalised to itself.
        expect(normalisePrincipal(once.arn)).toEqual({ ...once, session: undefined });
      }),
    );
  });
});

describe("parseArn", () => {
  it("splits an ARN into its six fields, the resource into type and name", () => {
    expect(parseArn("arn:aws:iam::111122223333:role/team/payroll")).toEqual({
      partition: "aws",
      service: "iam",
      region: "",
      account: "111122223333",
      resourceType: "role",
      resourceName: "team/payroll",
    });
  });

  it("refuses a seventh field, a resource without type or name, spaces and non-ASCII", () => {
    for (const text of [
      "arn:aws:iam::111122223333:user/x:role/payroll-svc",
      "arn:aws:iam::111122223333:role",
      "arn:aws:iam::111122223333:role/",
      "arn:aws:iam::111122223333:/x",
      "arn:aws:iam::111122223333:role/a b",
      "arn:aws:iam::111122223333:role/\u00e6",
      "urn:aws:iam::111122223333:role/a",
      "arn::iam::111122223333:role/a",
      "arn:aws:::111122223333:role/a",
    ]) {
      expect(parseArn(text), text).toBeUndefined();
    }
  });

  it("formats what it parses back to the same text", () => {
    fc.assert(
      fc.property(account, name, fc.constantFrom("role", "user"), (acct, n, type) => {
        const text = `arn:aws:iam::${acct}:${type}/${n}`;
        const arn = parseArn(text);
        expect(arn === undefined ? undefined : formatArn(arn)).toBe(text);
      }),
    );
  });
});

describe("IAM_NAME", () => {
  it("is a whole role, user or session name of IAM's characters, nothing else at either end", () => {
    for (const good of ["payroll-svc", "a", "A_b+c=d,e.f@g-9"]) expect(IAM_NAME.test(good), good).toBe(true);
    for (const bad of ["", "a b", "/payroll", "payroll/", "payroll:x", "\u00e6rlig", "svc\u00e6"]) {
      expect(IAM_NAME.test(bad), bad).toBe(false);
    }
  });
});
