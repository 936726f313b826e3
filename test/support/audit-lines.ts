// Test support: an audit line writer that keeps the records and lets a test wait for the next one of an event.
import type { LineWriter } from "../../lib/audit/index.ts";

export type AuditLine = Record<string, unknown>;

export interface AuditLines {
  /** Give to the broker as `sinks.write`. */
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
