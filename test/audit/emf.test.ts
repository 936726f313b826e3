import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { describe, expect, it, vi } from "vitest";
import { emfLine, type MetricValue } from "../../lib/audit/emf.ts";
import { AuditTrail } from "../../lib/audit/index.ts";
import { auditRecord } from "../support/audit-lines.ts";

const TARGET = { namespace: "TokenBroker", service: "maskinporten-broker" };

/** What Powertools Metrics prints for the same metrics (the layout CloudWatch and the alarms were built on). */
function powertoolsDocument(metrics: readonly MetricValue[], client: string | null): Record<string, unknown> {
  const printed: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    printed.push(String(chunk));
    return true;
  });
  try {
    const powertools = new Metrics({ namespace: TARGET.namespace, serviceName: TARGET.service });
    if (client !== null) {
      powertools.addDimensions({});
      powertools.addDimensions({ Client: client });
    }
    for (const m of metrics) powertools.addMetric(m.name, MetricUnit[m.unit], m.value);
    powertools.publishStoredMetrics();
  } finally {
    spy.mockRestore();
  }
  const line = printed
    .join("")
    .split("\n")
    .find((l) => l.includes('"_aws"'));
  if (line === undefined) throw new Error(`Powertools printed no EMF document: ${printed.join("")}`);
  return JSON.parse(line) as Record<string, unknown>;
}

const withoutTimestamp = (document: Record<string, unknown>) => {
  const aws = document._aws as Record<string, unknown>;
  expect(typeof aws.Timestamp).toBe("number");
  return { ...document, _aws: { ...aws, Timestamp: 0 } };
};

/** What emfLine must print, timestamp aside: Powertools' document plus the audit lines' level. */
const expectedDocument = (metrics: readonly MetricValue[], client: string | null) => ({
  ...withoutTimestamp(powertoolsDocument(metrics, client)),
  level: "FATAL",
});

describe("emfLine", () => {
  const cases: [string, MetricValue[], string | null][] = [
    [
      "a hit, one client",
      [
        { name: "TokenRequests", unit: "Count", value: 1 },
        { name: "CacheHits", unit: "Count", value: 1 },
      ],
      "default",
    ],
    [
      "a miss with two attempts (repeated metrics become arrays), no client",
      [
        { name: "TokenRequests", unit: "Count", value: 1 },
        { name: "CacheMisses", unit: "Count", value: 1 },
        { name: "SignLatency", unit: "Milliseconds", value: 3.25 },
        { name: "UpstreamLatency", unit: "Milliseconds", value: 12.5 },
        { name: "UpstreamErrors", unit: "Count", value: 1 },
        { name: "SignLatency", unit: "Milliseconds", value: 2 },
        { name: "UpstreamLatency", unit: "Milliseconds", value: 9 },
      ],
      null,
    ],
  ];
  for (const [name, metrics, client] of cases) {
    it(`lays out ${name} as Powertools Metrics does, on one line`, () => {
      const line = emfLine(TARGET, 1_795_000_000_123, metrics, client);
      expect(line.endsWith("\n")).toBe(true);
      expect(line.slice(0, -1)).not.toContain("\n");
      const document = JSON.parse(line) as Record<string, unknown>;
      expect((document._aws as { Timestamp: number }).Timestamp).toBe(1_795_000_000_123);
      expect(withoutTimestamp(document)).toEqual(expectedDocument(metrics, client));
    });
  }

  it("serialises each document's own values and client, however often its shape was seen before", () => {
    for (let i = 0; i < 3; i++) {
      for (const [, metrics, client] of cases) {
        const changed = metrics.map((m, j) => ({ ...m, value: m.value + i * 10 + j / 4 }));
        for (const who of [client, "other-client", null]) {
          const document = JSON.parse(emfLine(TARGET, 1_795_000_000_000 + i, changed, who)) as Record<
            string,
            unknown
          >;
          expect(withoutTimestamp(document)).toEqual(expectedDocument(changed, who));
        }
      }
    }
  });
});

describe("AuditTrail", () => {
  it("writes a record's audit line and its EMF document in one write, each on its own line", () => {
    const writes: string[] = [];
    const audit = new AuditTrail({ write: (text) => writes.push(text), now: () => 1_795_000_000_000 });
    const record = auditRecord({ event: "token_issued", cache: "hit" });
    audit.record(record, []);
    audit.record(record, []);
    expect(writes).toHaveLength(2);
    for (const text of writes) {
      const lines = text.split("\n");
      expect(lines).toHaveLength(3);
      expect(lines[2]).toBe("");
      expect(JSON.parse(lines[0] ?? "")).toMatchObject({
        event: "token_issued",
        cache: "hit",
        client: "default",
      });
      expect(JSON.parse(lines[1] ?? "")).toMatchObject({ TokenRequests: 1, CacheHits: 1, Client: "default" });
    }
  });
});
