// One audit record as one JSON line on stdout, whatever the log level: neither Powertools' level nor Lambda's drops it.
import { writeSync } from "node:fs";

/**
 * The `level` every audit line carries. Lambda's advanced logging controls (JSON log format with an application
 * log level) drop a stdout line whose `level` is below the setting, and read a missing or unknown `level` as
 * INFO; FATAL is the one level no setting drops. Queries select audit records by `event`, never by level.
 */
export const AUDIT_LEVEL = "FATAL";

/** Writes complete lines, each with its newline: an audit line, and the EMF document that goes with it. */
export type LineWriter = (line: string) => void;

/**
 * fd 1 written with writeSync: in Lambda a pipe, which process.stdout would write synchronously too, but building
 * process.stdout (a socket over the pipe) costs about a millisecond of the cold start. Should fd 1 have been made
 * non-blocking (by whoever built process.stdout) and its pipe be full, the rest of the line and every later line
 * go through process.stdout, which queues them in order: a line is never lost, cut, or interleaved.
 */
export const stdoutLines = {
  /** Tests replace it, as they replace process.stdout.write. */
  write(line: string): void {
    if (stream !== undefined) {
      stream.write(line);
      return;
    }
    const bytes = Buffer.from(line, "utf8");
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(STDOUT_FD, bytes, written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      stream = process.stdout;
      stream.write(bytes.subarray(written));
    }
  },
};

const STDOUT_FD = 1;
/** process.stdout, once fd 1 once refused a write for now (EAGAIN). */
let stream: NodeJS.WritableStream | undefined;

/** Writes to stdout through stdoutLines.write, looked up on every write (tests replace it). */
export const stdoutWriter: LineWriter = (line) => {
  stdoutLines.write(line);
};

/**
 * `{"level":"FATAL","message":<event>,"timestamp":…,"service":…, …fields}` as one line. Fields that are null,
 * undefined or empty strings are left out, as the diagnostic logger leaves them out.
 */
export function auditLine(fields: { readonly event: string }, timestamp: string, service: string): string {
  const line: Record<string, unknown> = { level: AUDIT_LEVEL, message: fields.event, timestamp, service };
  for (const [name, value] of Object.entries(fields)) {
    if (value !== null && value !== undefined && value !== "") line[name] = value;
  }
  return `${JSON.stringify(line)}\n`;
}
