// Test support: captures everything written to stdout and stderr (Powertools Logger and Metrics write there), by
// their streams and by fs.writeSync on their descriptors (the audit trail's writer).
import fs from "node:fs";

export interface CapturedOutput {
  readonly lines: string[];
  /** Lines that parse as JSON objects. */
  json(): Record<string, unknown>[];
  restore(): void;
}

export function captureOutput(): CapturedOutput {
  const lines: string[] = [];
  const originals = { out: process.stdout.write, err: process.stderr.write, writeSync: fs.writeSync };
  const capture = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(
      ...String(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"))
        .split("\n")
        .filter(Boolean),
    );
    const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  fs.writeSync = ((fd: number, data: string | NodeJS.ArrayBufferView, ...rest: never[]) => {
    if (fd !== 1 && fd !== 2) return originals.writeSync(fd, data as string, ...rest);
    capture(typeof data === "string" ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
  }) as typeof fs.writeSync;
  return {
    lines,
    json: () =>
      lines.flatMap((line) => {
        try {
          const value: unknown = JSON.parse(line);
          return typeof value === "object" && value !== null && !Array.isArray(value)
            ? [value as Record<string, unknown>]
            : [];
        } catch {
          return [];
        }
      }),
    restore() {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
      fs.writeSync = originals.writeSync;
    },
  };
}
