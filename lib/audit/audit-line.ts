// One audit record as one JSON line on stdout, whatever the log level: neither Powertools' level nor Lambda's drops it.
import fs from "node:fs";

/**
 * The `level` every audit line carries. Lambda's advanced logging controls (JSON log format with an application
 * log level) drop a stdout line whose `level` is below the setting, and read a missing or unknown `level` as
 * INFO; FATAL is the one level no setting drops. Queries select audit records by `event`, never by level.
 */
export const AUDIT_LEVEL = "FATAL";

/** Writes complete lines, each with its newline: an audit line, and the EMF document that goes with it. */
export type LineWriter = (line: string) => void;

/**
 * Standard output (a pipe in Lambda) by one write(2), without the Writable stream in between: it cost about 1.3 µs
 * more per line. What that call does not take (a full non-blocking pipe: EAGAIN, or a short write) goes through
 * process.stdout, which queues it; while anything is queued, lines follow it there, so none is lost or split.
 */
export const stdoutWriter: LineWriter = (line) => {
  let written = 0;
  if (process.stdout.writableLength === 0) {
    try {
      written = fs.writeSync(1, line);
    } catch {
      // Left to process.stdout below.
    }
  }
  if (written === 0) process.stdout.write(line);
  else if (written < Buffer.byteLength(line)) process.stdout.write(Buffer.from(line).subarray(written));
};

/**
 * `{"level":"FATAL","message":<event>,"timestamp":…,"service":…, …fields}` as one line. Fields that are null,
 * undefined or empty strings are left out, as the diagnostic logger leaves them out.
 */
export function auditLine(fields: { readonly event: string }, timestamp: string, service: string): string {
  const line: Record<string, unknown> = { level: AUDIT_LEVEL, message: fields.event, timestamp, service };
  for (const name in fields) {
    const value = (fields as Record<string, unknown>)[name];
    if (value !== null && value !== undefined && value !== "") line[name] = value;
  }
  return `${JSON.stringify(line)}\n`;
}
