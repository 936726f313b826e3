// The `service` of the audit lines and the metrics: POWERTOOLS_SERVICE_NAME (per stage when deployed), or the default.
import { afterEach, describe, expect, it, vi } from "vitest";
import { AuditTrail, DEFAULT_SERVICE_NAME, serviceName } from "../../lib/audit/index.ts";
import { auditRecord } from "../support/audit-lines.ts";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("serviceName", () => {
  it("is POWERTOOLS_SERVICE_NAME, trimmed", () => {
    expect(serviceName({ POWERTOOLS_SERVICE_NAME: " maskinporten-broker-blue " })).toBe(
      "maskinporten-broker-blue",
    );
  });

  it("is the default when the variable is unset, blank or longer than a dimension value may be", () => {
    expect(serviceName({})).toBe(DEFAULT_SERVICE_NAME);
    expect(serviceName({ POWERTOOLS_SERVICE_NAME: "  " })).toBe(DEFAULT_SERVICE_NAME);
    expect(serviceName({ POWERTOOLS_SERVICE_NAME: "x".repeat(1025) })).toBe(DEFAULT_SERVICE_NAME);
    expect(serviceName({ POWERTOOLS_SERVICE_NAME: "x".repeat(1024) })).toBe("x".repeat(1024));
  });
});

/** The audit line and the EMF document one token_issued record writes. */
function written(audit: (write: (text: string) => void) => AuditTrail): Record<string, unknown>[] {
  const writes: string[] = [];
  audit((text) => writes.push(text)).record(auditRecord({ event: "token_issued", cache: "hit" }), []);
  return writes
    .join("")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("AuditTrail", () => {
  it("writes the deployment's POWERTOOLS_SERVICE_NAME as the service of the audit line and the metrics", () => {
    vi.stubEnv("POWERTOOLS_SERVICE_NAME", "maskinporten-broker-green");
    const [line, emf] = written((write) => new AuditTrail({ write }));
    expect(line).toMatchObject({ event: "token_issued", service: "maskinporten-broker-green" });
    expect(emf).toMatchObject({ service: "maskinporten-broker-green", TokenRequests: 1 });
    const aws = emf?._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] } | undefined;
    expect(aws?.CloudWatchMetrics[0]?.Dimensions).toContainEqual(["service"]);
  });

  it("takes a service it is given over the variable, and the default without either", () => {
    vi.stubEnv("POWERTOOLS_SERVICE_NAME", "maskinporten-broker-green");
    expect(written((write) => new AuditTrail({ write, service: "local" }))[1]).toMatchObject({
      service: "local",
    });
    vi.stubEnv("POWERTOOLS_SERVICE_NAME", undefined);
    expect(written((write) => new AuditTrail({ write }))[1]).toMatchObject({ service: DEFAULT_SERVICE_NAME });
  });
});
