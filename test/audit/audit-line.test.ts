import fs from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { stdoutWriter } from "../../lib/audit/audit-line.ts";
import { AuditTrail, auditLine } from "../../lib/audit/index.ts";
import { auditRecord } from "../support/audit-lines.ts";
import { captureOutput } from "../support/output.ts";

const RECORD = auditRecord({ event: "token_denied", code: "rate_limited", reason: "" });

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** What reaches fd 1 through fs.writeSync (as `direct` lets it) and through process.stdout.write. */
function stdoutWrites(direct: (text: string) => number) {
  const written: { direct: string[]; stream: string[] } = { direct: [], stream: [] };
  vi.spyOn(fs, "writeSync").mockImplementation(((fd: number, text: string) => {
    expect(fd).toBe(1);
    const count = direct(text);
    written.direct.push(text.slice(0, count));
    return count;
  }) as typeof fs.writeSync);
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    written.stream.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  });
  return written;
}

describe("the stdout writer", () => {
  const LINE = '{"event":"token_issued"}\n{"_aws":{}}\n';

  it("writes a line to fd 1 in one call, past the stream", () => {
    const written = stdoutWrites((text) => text.length);
    stdoutWriter(LINE);
    expect(written).toEqual({ direct: [LINE], stream: [] });
  });

  it("hands a line the pipe refused (EAGAIN) to process.stdout whole", () => {
    const written = stdoutWrites(() => {
      throw Object.assign(new Error("EAGAIN: resource temporarily unavailable, write"), { code: "EAGAIN" });
    });
    stdoutWriter(LINE);
    expect(written).toEqual({ direct: [], stream: [LINE] });
  });

  it("hands the rest of a short write to process.stdout", () => {
    const written = stdoutWrites(() => 10);
    stdoutWriter(LINE);
    expect(written.direct.join("") + written.stream.join("")).toBe(LINE);
    expect(written.stream).toEqual([LINE.slice(10)]);
  });

  it("while process.stdout holds queued output, lines follow it there, in order", () => {
    const written = stdoutWrites((text) => text.length);
    vi.spyOn(process.stdout, "writableLength", "get").mockReturnValue(1);
    stdoutWriter(LINE);
    expect(written).toEqual({ direct: [], stream: [LINE] });
  });
});

describe("audit lines", () => {
  it("an audit record is one JSON line at level FATAL, with its fields as given and empty ones left out", () => {
    const line = auditLine(RECORD, "2026-01-01T00:00:00.000Z", "maskinporten-broker");
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    expect(JSON.parse(line)).toEqual({
      level: "FATAL",
      message: "token_denied",
      timestamp: "2026-01-01T00:00:00.000Z",
      service: "maskinporten-broker",
      event: "token_denied",
      principal: RECORD.principal,
      session: "i-0abc",
      account: "111122223333",
      source_ip: "10.0.0.7",
      client: "default",
      scopes: ["skatteetaten:mva"],
      latency_ms: 0,
      request_id: "r-1",
      code: "rate_limited",
    });
  });

  it.each([
    ["WARN", "WARN"],
    ["ERROR", "ERROR"],
    ["SILENT", "FATAL"],
  ])(
    "audit records are written at POWERTOOLS_LOG_LEVEL=%s / AWS_LAMBDA_LOG_LEVEL=%s; diagnostics follow the level",
    (powertools, lambda) => {
      vi.stubEnv("POWERTOOLS_LOG_LEVEL", powertools);
      vi.stubEnv("AWS_LAMBDA_LOG_LEVEL", lambda);
      const output = captureOutput();
      try {
        const trail = new AuditTrail({ now: () => Date.parse("2026-01-01T00:00:00Z") });
        trail.record(RECORD, []);
        trail.warn("signing_key_refresh_failed", { secret: "s" });
        trail.clockSkew(9000);
      } finally {
        output.restore();
      }
      const lines = output.json();
      expect(lines.filter((l) => l.event === "token_denied")).toHaveLength(1);
      const diagnostics = lines.filter((l) => l.message === "signing_key_refresh_failed");
      expect(diagnostics).toHaveLength(powertools === "WARN" && lambda === "WARN" ? 1 : 0);
      expect(lines.filter((l) => l.message === "maskinporten_clock_skew")).toHaveLength(diagnostics.length);
    },
  );

  it("at the default level a diagnostic warning goes through the levelled logger, as JSON with its fields", () => {
    const output = captureOutput();
    try {
      new AuditTrail().warn("signing_key_refresh_failed", { secret: "s", cause_name: "ConfigError" });
    } finally {
      output.restore();
    }
    expect(output.json()).toEqual([
      expect.objectContaining({
        level: "WARN",
        message: "signing_key_refresh_failed",
        service: "maskinporten-broker",
        secret: "s",
        cause_name: "ConfigError",
      }),
    ]);
  });
});
