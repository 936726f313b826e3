// Test support: an audit line writer that keeps the records and lets a test wait for the next one of an event.
import type { AuditRecord, LineWriter } from "../../lib/audit/index.ts";

export type AuditLine = Record<string, unknown>;

export interface AuditLines {
  /** Give to the broker's audit trail as `write`: `new AuditTrail({ write })`. */
  readonly write: LineWriter;
  readonly records: AuditLine[];
  /** The next record of `event` written after this call. */
  next(event: string): Promise<AuditLine>;
}

export function auditLines(): AuditLines {
  const records: AuditLine[] = [];
  const waiting: { event: string; resolve: (line: AuditLine) => void }[] = [];
  return {
    records,
    write(text) {
      // An audit line, and after it on its own line the EMF document of its metrics (not a record).
      for (const line of text.split("\n").filter(Boolean)) {
        const record = JSON.parse(line) as AuditLine;
        if (record._aws !== undefined) continue;
        records.push(record);
        for (const waiter of waiting.filter((w) => w.event === record.event)) {
          waiting.splice(waiting.indexOf(waiter), 1);
          waiter.resolve(record);
        }
      }
    },
    next: (event) => new Promise((resolve) => waiting.push({ event, resolve })),
  };
}

/**
 * A whole audit record of a payroll role's call for skatteetaten:mva, every optional request field empty; `fields`
 * sets what a test is about (keys it adds come last, as the broker adds them).
 */
export function auditRecord({
  event,
  ...fields
}: Partial<AuditRecord> & Pick<AuditRecord, "event">): AuditRecord {
  return {
    event,
    principal: "arn:aws:iam::111122223333:role/payroll-svc",
    session: "i-0abc",
    account: "111122223333",
    source_ip: "10.0.0.7",
    vpce_id: null,
    client: "default",
    scopes: ["skatteetaten:mva"],
    resource: null,
    consumer_org: null,
    systemuser_org: null,
    exchange: null,
    pid_pseudonym: null,
    cache: null,
    latency_ms: 0,
    request_id: "r-1",
    ...fields,
  };
}
