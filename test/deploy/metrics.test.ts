// Every metric the dashboard and the alarms name is one the code emits (or an infra/ metric filter, or AWS's own):
// the emitted set comes from running the emitting code (lib/audit over every kind of record, the key watch against
// the emulator) and capturing its EMF output.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Context, ScheduledEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyWatchHandler } from "../../functions/key-watch.ts";
import type { ExchangeAttempt } from "../../lib/altinn/exchange.ts";
import { type AuditEvent, type AuditRecord, AuditTrail } from "../../lib/audit/index.ts";
import { loadKeyConfig } from "../../lib/config/index.ts";
import { createKeyLifecycles, KeyWatch } from "../../lib/keys/index.ts";
import type { AttemptRecord } from "../../lib/maskinporten/types.ts";
import { DASHBOARD_PATH, dashboardBody, dashboardTemplate, type MetricRow } from "../../scripts/dashboard.ts";
import { auditRecord } from "../support/audit-lines.ts";
import { CLIENT_SCOPES } from "../support/broker-fixture.ts";
import { CLIENT_ORG, closeKeyFixtures, startKeyFixture } from "../support/key-fixture.ts";
import { type CapturedOutput, captureOutput } from "../support/output.ts";
import { REPO_ROOT } from "./package-service.ts";

/** `namespace|metric|dimension names, sorted` */
type MetricKey = string;
const keyOf = (namespace: string, name: string, dimensions: readonly string[]): MetricKey =>
  `${namespace}|${name}|${[...dimensions].sort().join(",")}`;

const EVENTS: AuditEvent[] = [
  "token_issued",
  "token_denied",
  "token_rejected",
  "token_failed",
  "token_refreshed",
];
const CACHES: AuditRecord["cache"][] = ["hit", "miss", "coalesced", "refresh", null];
const CODES = [
  undefined,
  "rate_limited",
  "forbidden",
  "invalid_request",
  "signing_unavailable",
  "upstream_unavailable",
  "upstream_rejected",
];
const ATTEMPT = { attempt: 1, grantJti: "j1", keyRef: "kms:key", signMs: 4, upstreamMs: 30 };
const ATTEMPTS: AttemptRecord[][] = [
  [],
  [{ ...ATTEMPT, upstreamStatus: 200, outcome: "ok" }],
  [{ ...ATTEMPT, outcome: "signing_error" }],
  [
    { ...ATTEMPT, upstreamStatus: 503, outcome: "http_503" },
    { ...ATTEMPT, attempt: 2, outcome: "timeout" },
  ],
  [{ ...ATTEMPT, upstreamStatus: 400, outcome: "http_400" }],
];

const EXCHANGES: ExchangeAttempt[][] = [
  [],
  [{ attempt: 1, upstreamStatus: 200, upstreamMs: 20, outcome: "ok" }],
  [
    { attempt: 1, upstreamStatus: 503, upstreamMs: 20, outcome: "http_503" },
    { attempt: 2, upstreamMs: 20, outcome: "timeout" },
  ],
  [{ attempt: 1, upstreamStatus: 401, upstreamMs: 20, outcome: "http_401" }],
];

function record(event: AuditEvent, cache: AuditRecord["cache"], client: string | null, code?: string) {
  return auditRecord({
    event,
    session: "run-1",
    vpce_id: "vpce-0123456789abcdef0",
    client,
    cache,
    latency_ms: 5,
    ...(code === undefined ? {} : { code, reason: code }),
  });
}

/** What the EMF documents in `lines` name: one key per metric and dimension set. */
function emfMetrics(documents: Record<string, unknown>[]): Set<MetricKey> {
  const keys = new Set<MetricKey>();
  for (const doc of documents) {
    const directives = (doc._aws as { CloudWatchMetrics?: unknown } | undefined)?.CloudWatchMetrics as
      | { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[]
      | undefined;
    for (const directive of directives ?? []) {
      for (const metric of directive.Metrics) {
        for (const dimensions of directive.Dimensions)
          keys.add(keyOf(directive.Namespace, metric.Name, dimensions));
      }
    }
  }
  return keys;
}

let output: CapturedOutput;
let emitted: Set<MetricKey>;

/** lib/audit over every kind of /token record: each event, cache outcome, code, client and attempt outcome. */
function runAuditTrail(): void {
  const audit = new AuditTrail();
  for (const event of EVENTS) {
    for (const cache of CACHES) {
      for (const code of CODES) {
        for (const client of [null, "payroll"]) {
          for (const attempts of ATTEMPTS) {
            for (const exchange of EXCHANGES)
              audit.record(record(event, cache, client, code), attempts, exchange);
          }
          if (event === "token_failed") audit.startFailed(record(event, null, client, code));
        }
      }
    }
  }
}

const SCHEDULE = { "detail-type": "Scheduled Event", source: "aws.events", detail: {} } as ScheduledEvent;
const CONTEXT = { awsRequestId: "metrics-key-watch", functionName: "keyWatch" } as Context;

/** The scheduled key watch against the emulator: a key with 10 days left (and one more), then a set it cannot read. */
async function runKeyWatch(): Promise<void> {
  const fixture = await startKeyFixture(10, 1);
  const config = loadKeyConfig(fixture.env);
  const handler = createKeyWatchHandler(
    async () => new KeyWatch(await createKeyLifecycles(config, { now: fixture.now }), config.keys),
  );
  await handler(SCHEDULE, CONTEXT);
  // The client loses the self-service scopes: the watch fails and counts KeyWatchErrors.
  fixture.fixture.emulator.registerClient({
    clientId: fixture.clientId,
    orgNumber: CLIENT_ORG,
    jwks: [(await fixture.fixture.signer.current()).jwk],
    scopes: CLIENT_SCOPES,
  });
  await expect(handler(SCHEDULE, CONTEXT)).rejects.toThrow(/key watch failed/);
}

beforeAll(async () => {
  output = captureOutput();
  try {
    runAuditTrail();
    await runKeyWatch();
  } finally {
    output.restore();
    await closeKeyFixtures();
  }
  emitted = emfMetrics(output.json());
}, 60_000);

afterAll(() => output?.restore());

interface NamedMetric {
  where: string;
  namespace: string;
  name: string;
  dimensions: string[];
}

/** The metrics a dashboard row names: a plain row, or a SEARCH expression's `{namespace,dims} MetricName="x"`. */
function rowMetrics(where: string, row: MetricRow): NamedMetric[] {
  const [first, second, ...rest] = row;
  if (typeof first === "string" && typeof second === "string") {
    const strings = rest.filter((part): part is string => typeof part === "string");
    return [{ where, namespace: first, name: second, dimensions: strings.filter((_, i) => i % 2 === 0) }];
  }
  const expression = String((first as { expression?: unknown }).expression ?? "");
  return [...expression.matchAll(/SEARCH\('\{([^}]+)\}\s+MetricName="([^"]+)"/g)].map((match) => {
    const [namespace = "", ...dimensions] = (match[1] ?? "").split(",").map((part) => part.trim());
    return { where, namespace, name: match[2] ?? "", dimensions };
  });
}

function dashboardMetrics(): NamedMetric[] {
  return dashboardBody().widgets.flatMap((widget) =>
    widget.type !== "metric"
      ? []
      : ((widget.properties.metrics as MetricRow[]) ?? []).flatMap((row) =>
          rowMetrics(`dashboard "${String(widget.properties.title)}"`, row),
        ),
  );
}

const INFRA = join(REPO_ROOT, "infra");
const infraFiles = () =>
  readdirSync(INFRA)
    .filter((file) => file.endsWith(".yml"))
    .map((file) => ({ file, text: readFileSync(join(INFRA, file), "utf8") }));

/** `  LogicalId:\n    Type: X` blocks of a template's Resources, as text. */
function resourceBlocks(text: string): { id: string; type: string; body: string }[] {
  const resources = text.slice(text.indexOf("\nResources:"), text.indexOf("\nOutputs:") >>> 0);
  return [...resources.matchAll(/^ {2}(\w+):\n {4}Type: (\S+)\n([\s\S]*?)(?=^ {2}\w+:\n|(?![\s\S]))/gm)].map(
    (match) => ({ id: match[1] ?? "", type: match[2] ?? "", body: match[3] ?? "" }),
  );
}

/** Each alarm's single metric (Namespace, MetricName, Dimensions names); metric-math alarms name AWS/ metrics. */
function alarmMetrics(): NamedMetric[] {
  return infraFiles().flatMap(({ file, text }) =>
    resourceBlocks(text)
      .filter((block) => block.type === "AWS::CloudWatch::Alarm")
      .flatMap(({ id, body }) => {
        // A Metrics Insights alarm: SELECT FN(metric) FROM SCHEMA("namespace", dimension, ...).
        const insights = [
          ...body.matchAll(/SELECT \w+\((\w+)\) FROM SCHEMA\(\\?"([^"\\]+)\\?",\s*([^)]*)\)/g),
        ].map((m) => ({
          where: `${file} ${id}`,
          namespace: m[2] ?? "",
          name: m[1] ?? "",
          dimensions: (m[3] ?? "").split(",").map((d) => d.trim()),
        }));
        expect(/SELECT/.test(body), `${file} ${id}: a SELECT this test cannot read`).toBe(
          insights.length > 0,
        );
        if (insights.length > 0) return insights;
        const namespaces = [...body.matchAll(/^\s+Namespace: (.+)$/gm)].map((m) => scalar(m[1]));
        const names = [...body.matchAll(/^\s+MetricName: (\S+)$/gm)].map((m) => m[1] ?? "");
        const dimensions = [...body.matchAll(/^\s+- Name: (\S+)$/gm)].map((m) => m[1] ?? "");
        expect(namespaces.length, `${file} ${id}`).toBe(names.length);
        if (names.length === 1) {
          return [
            { where: `${file} ${id}`, namespace: namespaces[0] ?? "", name: names[0] ?? "", dimensions },
          ];
        }
        expect(
          namespaces.every((ns) => ns.startsWith("AWS/")),
          `${file} ${id}`,
        ).toBe(true);
        return [];
      }),
  );
}

/** A YAML scalar as written, a `!Sub` string as its template: the dashboard body spells `${ServiceStage}` alike. */
const scalar = (raw: string | undefined) => (raw ?? "").replace(/^!Sub\s+/, "").replace(/^"(.*)"$/, "$1");

/** Metrics an infra/ CloudWatch Logs metric filter creates: `namespace|name|` (no dimensions). */
function filterMetrics(): Set<MetricKey> {
  const keys = new Set<MetricKey>();
  for (const { text } of infraFiles()) {
    for (const block of resourceBlocks(text).filter((b) => b.type === "AWS::Logs::MetricFilter")) {
      const namespace = scalar(/MetricNamespace: (.+)/.exec(block.body)?.[1]);
      const name = /MetricName: (\S+)/.exec(block.body)?.[1] ?? "";
      keys.add(keyOf(namespace, name, []));
    }
  }
  return keys;
}

function unexplained(metrics: NamedMetric[]): string[] {
  const filters = filterMetrics();
  return metrics
    .filter(({ namespace, name, dimensions }) => {
      if (namespace.startsWith("AWS/")) return false;
      const key = keyOf(namespace, name, dimensions);
      return !emitted.has(key) && !filters.has(key);
    })
    .map(
      ({ where, namespace, name, dimensions }) => `${where}: ${namespace} ${name} [${dimensions.join(",")}]`,
    );
}

describe("the emitted metric set (EMF captured from lib/audit over every kind of record, and the key watch)", () => {
  it("has each TokenBroker metric per service, and per service and client", () => {
    for (const name of [
      "TokenRequests",
      "Denied",
      "RateLimited",
      "CacheHits",
      "SignLatency",
      "UpstreamErrors",
    ]) {
      expect(emitted).toContain(keyOf("TokenBroker", name, ["service"]));
      expect(emitted).toContain(keyOf("TokenBroker", name, ["service", "Client"]));
    }
    expect(emitted).not.toContain(keyOf("TokenBroker", "NoSuchMetric", ["service"]));
  });

  it("has the key watch's days left per client and kid, and its errors per client", () => {
    expect(emitted).toContain(keyOf("TokenBroker", "RegisteredKeyDaysLeft", ["service", "Client", "Kid"]));
    expect(emitted).toContain(keyOf("TokenBroker", "SigningKeyDaysLeft", ["service", "Client"]));
    expect(emitted).toContain(keyOf("TokenBroker", "KeyWatchErrors", ["service", "Client"]));
  });

  it("lets the check below fail: a name or dimension set the code never emits is reported", () => {
    expect(
      unexplained([
        { where: "probe", namespace: "TokenBroker", name: "TokensIssued", dimensions: ["service"] },
        { where: "probe", namespace: "TokenBroker", name: "Denied", dimensions: ["Principal", "service"] },
        {
          where: "probe",
          namespace: `TokenBroker/CloudTrail/\${ServiceStage}`,
          name: "KeyDeletes",
          dimensions: [],
        },
      ]),
    ).toHaveLength(3);
  });
});

describe("infra/dashboard.yml", () => {
  it("is what `npm run dashboard` generates", () => {
    expect(readFileSync(DASHBOARD_PATH, "utf8")).toBe(dashboardTemplate());
  });

  it("names only metrics the code emits, with the dimensions it emits them with", () => {
    const metrics = dashboardMetrics();
    expect(metrics.length).toBeGreaterThan(15);
    expect(unexplained(metrics)).toEqual([]);
  });

  it("shows tokens per principal and client, hit ratio, grants signed, denials by reason, upstream errors and latency", () => {
    const body = dashboardBody();
    const titles = body.widgets.map((widget) => String(widget.properties.title ?? ""));
    for (const title of [
      /Tokens issued per principal/,
      /Tokens issued per client/,
      /Token requests per client/,
      /Cache hit ratio/,
      /Grants signed/,
      /Denials by reason/,
      /Upstream and signing errors/,
      /Latency/,
      /Registered key days left/,
    ]) {
      expect(
        titles.some((t) => title.test(t)),
        String(title),
      ).toBe(true);
    }
    const text = body.widgets.find((widget) => widget.type === "text");
    expect(String(text?.properties.markdown)).toMatch(/logsV2:logs-insights[\s\S]*maskinporten-broker/);
  });
});

describe("infra/alarms.yml", () => {
  it("names only metrics the code or an infra/ metric filter emits", () => {
    const metrics = alarmMetrics();
    expect(metrics.map((m) => m.name)).toEqual(
      expect.arrayContaining([
        "Denied",
        "RateLimited",
        "UpstreamErrors",
        "SigningErrors",
        "KeySignCalls",
        "SigningKeyDaysLeft",
        "KeyWatchErrors",
      ]),
    );
    expect(unexplained(metrics)).toEqual([]);
  });
});
