// Type test (npx tsc --noEmit checks it): an audit record's fields take any text but a Pid.
import { describe, expect, it } from "vitest";
import type { AuditRecord } from "../../lib/audit/audit-trail.ts";
import { parseTokenRequest } from "../../lib/request/index.ts";
import { PID_A } from "../support/pid.ts";

const parsed = parseTokenRequest(
  {
    body: JSON.stringify({ scope: "a:x", consumer_org: "991825827", pid: PID_A }),
    isBase64Encoded: false,
    contentType: "application/json",
  },
  { environment: "test" },
).request;

describe("an audit record cannot take a Pid", () => {
  it("takes the parsed organisation number and scopes, and refuses the parsed pid at compile time", () => {
    const { pid, consumerOrg } = parsed;
    if (pid === undefined || consumerOrg === undefined) throw new Error("the parse dropped a field");
    const fields: Pick<AuditRecord, "consumer_org" | "scopes" | "reason"> = {
      consumer_org: consumerOrg,
      scopes: parsed.scopes,
      // @ts-expect-error a Pid is personal data: it never goes into an audit record
      reason: pid,
    };
    // @ts-expect-error nor into any other text field
    const other: Pick<AuditRecord, "principal"> = { principal: pid };
    expect(fields.consumer_org).toBe("991825827");
    expect(other.principal).toBe(PID_A);
  });
});
