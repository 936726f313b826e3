// One audit record as one JSON line on stdout, whatever the log level: neither Powertools' level nor Lambda's drops it.

/**
 * The `level` every audit line carries. Lambda's advanced logging controls (JSON log format with an application
 * log level) drop a stdout line whose `level` is below the setting, and read a missing or unknown `level` as
 * INFO; FATAL is the one level no setting drops. Queries select audit records by `event`, never by level.
 */
export const AUDIT_LEVEL = "FATAL";

/** Writes complete lines, each with its newline: an audit line, and the EMF document that goes with it. */
export type LineWriter = (line: string) => void;

/** process.stdout, looked up on every write (tests replace it): a pipe in Lambda, written synchronously. */
export const stdoutWriter: LineWriter = (line) => {
  process.stdout.write(line);
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
