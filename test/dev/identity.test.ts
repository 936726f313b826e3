import { describe, expect, it } from "vitest";
import { isPrincipalArn, localIdentity } from "../../dev/identity.ts";

describe("localIdentity", () => {
  it("presents a role as API Gateway presents a role session", () => {
    const id = localIdentity("AKIAX", "arn:aws:iam::111122223333:role/team/payroll-svc");
    expect(id.userArn).toBe("arn:aws:sts::111122223333:assumed-role/payroll-svc/local");
    expect(id.accountId).toBe("111122223333");
    expect(id.caller).toMatch(/^AROA[0-9A-F]{17}:local$/);
    expect(id.principalArn).toBe("arn:aws:iam::111122223333:role/team/payroll-svc");
  });

  it("keeps an assumed-role ARN and its session name", () => {
    const id = localIdentity("ASIAX", "arn:aws:sts::111122223333:assumed-role/payroll-svc/run-42");
    expect(id.userArn).toBe("arn:aws:sts::111122223333:assumed-role/payroll-svc/run-42");
    expect(id.caller).toMatch(/:run-42$/);
  });

  it("presents a user by its user ARN with a stable AIDA id", () => {
    const a = localIdentity("AKIAX", "arn:aws:iam::111122223333:user/ops");
    expect(a).toMatchObject({ userArn: "arn:aws:iam::111122223333:user/ops", accountId: "111122223333" });
    expect(a.caller).toBe(localIdentity("AKIAY", "arn:aws:iam::111122223333:user/ops").caller);
    expect(a.caller).toMatch(/^AIDA[0-9A-F]{17}$/);
  });

  it("refuses anything that is not a role, user or assumed-role ARN", () => {
    expect(isPrincipalArn("arn:aws:iam::111122223333:group/ops")).toBe(false);
    expect(isPrincipalArn("arn:aws:iam::1:role/x")).toBe(false);
    expect(() => localIdentity("AKIAX", "payroll")).toThrow(/Not an IAM role/);
  });
});
