import { describe, expect, it } from "vitest";
import { diagnosticLogger } from "../../lib/audit/index.ts";
import { captureOutput } from "../support/output.ts";

const NOW = Date.parse("2026-03-01T12:00:00.000Z");

/** The diagnostic lines one warning and one error produce under `env`. */
function written(env: Record<string, string | undefined>): Record<string, unknown>[] {
  const output = captureOutput();
  try {
    const logger = diagnosticLogger("maskinporten-broker", { env, now: () => NOW });
    logger.warn("signing_key_refresh_failed", { cause_name: "ConfigError" });
    logger.error("handler_failed", { cause_name: "TypeError" });
  } finally {
    output.restore();
  }
  return output.json();
}

const levels = (env: Record<string, string | undefined>) => written(env).map((line) => line.level);

describe("diagnostic lines", () => {
  it("are JSON on one line with level, message, the injected clock's timestamp, the service and the fields", () => {
    expect(written({})).toEqual([
      {
        level: "WARN",
        message: "signing_key_refresh_failed",
        timestamp: "2026-03-01T12:00:00.000Z",
        service: "maskinporten-broker",
        cause_name: "ConfigError",
      },
      {
        level: "ERROR",
        message: "handler_failed",
        timestamp: "2026-03-01T12:00:00.000Z",
        service: "maskinporten-broker",
        cause_name: "TypeError",
      },
    ]);
  });

  it("at the default level INFO, and at an unknown level, warnings and errors are written", () => {
    expect(levels({})).toEqual(["WARN", "ERROR"]);
    expect(levels({ POWERTOOLS_LOG_LEVEL: "VERBOSE" })).toEqual(["WARN", "ERROR"]);
  });

  it("POWERTOOLS_LOG_LEVEL=ERROR drops warnings, in any letter case; SILENT drops everything", () => {
    expect(levels({ POWERTOOLS_LOG_LEVEL: "ERROR" })).toEqual(["ERROR"]);
    expect(levels({ POWERTOOLS_LOG_LEVEL: "error" })).toEqual(["ERROR"]);
    expect(levels({ POWERTOOLS_LOG_LEVEL: "SILENT" })).toEqual([]);
  });

  it("LOG_LEVEL counts when POWERTOOLS_LOG_LEVEL is unset or empty, and POWERTOOLS_LOG_LEVEL wins over it", () => {
    expect(levels({ LOG_LEVEL: "ERROR" })).toEqual(["ERROR"]);
    expect(levels({ POWERTOOLS_LOG_LEVEL: "", LOG_LEVEL: "ERROR" })).toEqual(["ERROR"]);
    expect(levels({ POWERTOOLS_LOG_LEVEL: "DEBUG", LOG_LEVEL: "ERROR" })).toEqual(["WARN", "ERROR"]);
  });

  it("Lambda's own level wins when it is stricter, in any letter case, and never lets more through", () => {
    expect(levels({ POWERTOOLS_LOG_LEVEL: "WARN", AWS_LAMBDA_LOG_LEVEL: "ERROR" })).toEqual(["ERROR"]);
    expect(levels({ AWS_LAMBDA_LOG_LEVEL: "error" })).toEqual(["ERROR"]);
    expect(levels({ AWS_LAMBDA_LOG_LEVEL: "FATAL" })).toEqual([]);
    expect(levels({ POWERTOOLS_LOG_LEVEL: "ERROR", AWS_LAMBDA_LOG_LEVEL: "DEBUG" })).toEqual(["ERROR"]);
    expect(levels({ POWERTOOLS_LOG_LEVEL: "ERROR", AWS_LAMBDA_LOG_LEVEL: "UNKNOWN" })).toEqual(["ERROR"]);
  });
});
