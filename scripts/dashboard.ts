// `npm run dashboard`: writes infra/dashboard.yml, the security team's CloudWatch dashboard, from the widgets below
// (`-- --check` exits 1 when the file is stale). test/deploy/metrics.test.ts checks every metric it names is emitted.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const NS = "TokenBroker";
/** A CloudFormation `!Sub` variable of the template (a parameter or pseudo parameter). */
const sub = (name: string) => `\${${name}}`;
const REGION = sub("AWS::Region");
const STAGE = sub("ServiceStage");
// The TokenBroker metrics' `service` dimension: POWERTOOLS_SERVICE_NAME, which serverless.yml sets per stage.
const SERVICE = `maskinporten-broker-${STAGE}`;
// infra/alarms.yml's metric filters write the stage's CloudTrail counts here: one namespace per stage.
const CLOUDTRAIL_NS = `TokenBroker/CloudTrail/${STAGE}`;
const TOKEN_FUNCTION = `maskinporten-broker-${STAGE}-token`;
const API_NAME = `maskinporten-broker-${STAGE}`;
// The names serverless.yml and infra/audit-queries.yml give the stage's log groups and query folder.
const TOKEN_LOGS = `/aws/lambda/${TOKEN_FUNCTION}`;
const ACCESS_LOGS = `/aws/api-gateway/${API_NAME}`;
const QUERY_FOLDER = `maskinporten-broker-${STAGE}`;

/** A CloudWatch metric widget row: `[namespace, name, dimension, value, ..., options?]` or an expression. */
export type MetricRow = (string | Record<string, unknown>)[];

interface Widget {
  type: "metric" | "log" | "text";
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Record<string, unknown>;
}

const byService = (name: string, options: Record<string, unknown> = {}): MetricRow => [
  NS,
  name,
  "service",
  SERVICE,
  options,
];

/**
 * Every series of `name` over a dimension set (e.g. per client: the `Client` set the broker emits beside `service`),
 * of this stage's service only.
 */
const search = (
  name: string,
  dimensions: string,
  stat: string,
  id: string,
  label: string,
  period = 300,
): MetricRow => [
  {
    expression: `SEARCH('{${NS},${dimensions}} MetricName="${name}" service="${SERVICE}"', '${stat}', ${period})`,
    id,
    label,
  },
];
const perClient = (name: string, stat: string, id: string, label: string): MetricRow =>
  search(name, "Client,service", stat, id, label);

function metricWidget(title: string, metrics: MetricRow[], extra: Record<string, unknown> = {}) {
  return {
    type: "metric" as const,
    properties: { title, region: REGION, view: "timeSeries", stat: "Sum", period: 300, metrics, ...extra },
  };
}

function logWidget(title: string, logGroup: string, query: string) {
  return {
    type: "log" as const,
    properties: { title, region: REGION, view: "table", query: `SOURCE '${logGroup}' | ${query}` },
  };
}

const LOGS_INSIGHTS = `https://${REGION}.console.aws.amazon.com/cloudwatch/home?region=${REGION}#logsV2:logs-insights`;
const ALARMS = `https://${REGION}.console.aws.amazon.com/cloudwatch/home?region=${REGION}#alarmsV2:?search=maskinporten-broker-${STAGE}`;

/** The widgets, top to bottom; laid out two per row (text and log tables full width). */
function widgets(): Omit<Widget, "x" | "y" | "width" | "height">[] {
  return [
    {
      type: "text",
      properties: {
        markdown: [
          `# maskinporten-broker (${STAGE})`,
          `Saved Logs Insights queries: [open Logs Insights](${LOGS_INSIGHTS}) and pick the folder **${QUERY_FOLDER}** ` +
            "(Tokens per principal and scope, Denials, Key use per day, Unknown principals, Failures by upstream error, " +
            "Requests refused by API Gateway; infra/audit-queries.yml). " +
            `[Alarms of this stage](${ALARMS}). Runbook: docs/operations.md.`,
        ].join("\n\n"),
      },
    },
    metricWidget("Tokens issued (requests, hits, misses, coalesced)", [
      byService("TokenRequests", { label: "requests" }),
      byService("CacheHits", { label: "cache hits" }),
      byService("CacheMisses", { label: "cache misses" }),
      byService("Coalesced", { label: "coalesced" }),
    ]),
    metricWidget("Token requests per client", [perClient("TokenRequests", "Sum", "clients", "")]),
    metricWidget(
      "Cache hit ratio (%)",
      [
        [{ expression: "100 * hits / (hits + misses + coalesced)", id: "ratio", label: "hit ratio" }],
        byService("CacheHits", { id: "hits", visible: false }),
        byService("CacheMisses", { id: "misses", visible: false }),
        byService("Coalesced", { id: "coalesced", visible: false }),
      ],
      { yAxis: { left: { min: 0, max: 100 } } },
    ),
    metricWidget("Grants signed: the broker's count and CloudTrail's kms:Sign", [
      byService("SignLatency", { stat: "SampleCount", label: "grants signed (broker)" }),
      [CLOUDTRAIL_NS, "KeySignCalls", { label: "kms:Sign on the key(s) (CloudTrail)" }],
      [CLOUDTRAIL_NS, "ForeignSignCalls", { label: "kms:Sign by another principal (CloudTrail)" }],
    ]),
    metricWidget("Denials (policy and rate limit)", [
      byService("Denied", { label: "denied" }),
      byService("RateLimited", { label: "rate_limited" }),
    ]),
    metricWidget("Upstream and signing errors", [
      byService("UpstreamErrors", { label: "Maskinporten errors: 5xx, 429, timeouts (per attempt)" }),
      byService("ExchangeErrors", { label: "Altinn exchange errors (per attempt)" }),
      byService("SigningErrors", { label: "signing errors" }),
    ]),
    metricWidget("Upstream refusals (4xx: the request or the client's registration)", [
      byService("UpstreamRejections", { label: "Maskinporten 4xx refusals" }),
      byService("ExchangeRejections", { label: "Altinn exchange 4xx refusals" }),
    ]),
    metricWidget(
      "Latency (ms)",
      [
        byService("UpstreamLatency", { stat: "p50", label: "Maskinporten p50" }),
        byService("UpstreamLatency", { stat: "p99", label: "Maskinporten p99" }),
        byService("ExchangeLatency", { stat: "p99", label: "Altinn exchange p99" }),
        byService("SignLatency", { stat: "p99", label: "sign p99" }),
        ["AWS/ApiGateway", "Latency", "ApiName", API_NAME, "Stage", STAGE, { stat: "p99", label: "API p99" }],
      ],
      { stat: "Average" },
    ),
    metricWidget(
      "Registered key days left (key watch, daily)",
      [
        search("SigningKeyDaysLeft", "Client,service", "Minimum", "signing", "", 86400),
        search("RegisteredKeyDaysLeft", "Client,Kid,service", "Minimum", "registered", "", 86400),
      ],
      { period: 86400, stat: "Minimum", view: "singleValue" },
    ),
    metricWidget("Token function: concurrency (reserved) and throttles", [
      [
        "AWS/Lambda",
        "ConcurrentExecutions",
        "FunctionName",
        TOKEN_FUNCTION,
        { stat: "Maximum", label: "concurrent" },
      ],
      ["AWS/Lambda", "Throttles", "FunctionName", TOKEN_FUNCTION, { label: "throttles" }],
      ["AWS/Lambda", "Errors", "FunctionName", TOKEN_FUNCTION, { label: "errors" }],
    ]),
    metricWidget("API responses", [
      ["AWS/ApiGateway", "Count", "ApiName", API_NAME, "Stage", STAGE, { label: "requests" }],
      ["AWS/ApiGateway", "4XXError", "ApiName", API_NAME, "Stage", STAGE, { label: "4xx" }],
      ["AWS/ApiGateway", "5XXError", "ApiName", API_NAME, "Stage", STAGE, { label: "5xx" }],
    ]),
    logWidget(
      "Tokens issued per principal",
      TOKEN_LOGS,
      'filter event = "token_issued" | stats count(*) as tokens by principal, account | sort tokens desc | limit 50',
    ),
    logWidget(
      "Tokens issued per client",
      TOKEN_LOGS,
      'filter event = "token_issued" | stats count(*) as tokens, count_distinct(principal) as principals by client | sort tokens desc',
    ),
    logWidget(
      "Denials by reason",
      TOKEN_LOGS,
      'filter event = "token_denied" | stats count(*) as denials, count_distinct(principal) as principals by code, reason | sort denials desc | limit 50',
    ),
    logWidget(
      "Failures by upstream error (the broker's or an upstream's fault)",
      TOKEN_LOGS,
      'filter event = "token_failed" | stats count(*) as failures, latest(@timestamp) as last by code, upstream_status | sort failures desc',
    ),
    logWidget(
      "Rejected requests by reason (the caller's own fault: 400, 413, 415)",
      TOKEN_LOGS,
      'filter event = "token_rejected" | stats count(*) as rejected, count_distinct(principal) as principals by code, reason | sort rejected desc | limit 50',
    ),
    logWidget(
      "Requests refused by API Gateway",
      ACCESS_LOGS,
      "filter status >= 400 and status < 500 | stats count(*) as requests by status, userArn, error | sort requests desc | limit 50",
    ),
  ];
}

/** The dashboard body, with `${...}` CloudFormation `!Sub` variables in it. */
export function dashboardBody(): { widgets: Widget[] } {
  let y = 0;
  let column = 0;
  const placed: Widget[] = [];
  for (const widget of widgets()) {
    const full = widget.type !== "metric";
    if (full && column !== 0) {
      y += 6;
      column = 0;
    }
    const height = widget.type === "text" ? 3 : 6;
    placed.push({ ...widget, x: column * 12, y, width: full ? 24 : 12, height });
    if (full || column === 1) {
      y += height;
      column = 0;
    } else {
      column = 1;
    }
  }
  return { widgets: placed };
}

const HEADER = `AWSTemplateFormatVersion: "2010-09-09"
# GENERATED by \`npm run dashboard\` from scripts/dashboard.ts: edit that file, not this one.
# The security team's view of the broker: tokens issued, cache hit ratio, grants signed (the broker's count
# next to CloudTrail's), denials by reason, upstream errors and latency, and the saved Logs Insights queries.
Description: >-
  maskinporten-broker dashboard: tokens per principal and client, cache hit ratio, grants signed,
  denials by reason, upstream errors and latency, linked audit queries.

Parameters:
  ServiceStage:
    Type: String
    Default: prod
    AllowedPattern: "^[a-zA-Z0-9-]+$"
    Description: >-
      The \`--stage\` the service was deployed with; names the dashboard, the functions, the API and the log
      groups it reads (the token function's audit record, the access log) and the TokenBroker metrics' \`service\`
      dimension (maskinporten-broker-<stage>), so two stages' dashboards never mix.

Resources:
  Dashboard:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardName: !Sub "maskinporten-broker-\${ServiceStage}"
      DashboardBody: !Sub |
`;

const FOOTER = `
Outputs:
  DashboardName:
    Value: !Ref Dashboard
`;

/** infra/dashboard.yml as `npm run dashboard` writes it. */
export function dashboardTemplate(): string {
  const body = JSON.stringify(dashboardBody(), null, 2)
    .split("\n")
    .map((line) => `        ${line}`)
    .join("\n");
  return `${HEADER}${body}\n${FOOTER}`;
}

export const DASHBOARD_PATH = join(import.meta.dirname, "..", "infra", "dashboard.yml");

if (process.argv[1] === import.meta.filename) {
  const expected = dashboardTemplate();
  if (process.argv.includes("--check")) {
    const stale = readFileSync(DASHBOARD_PATH, "utf8") !== expected;
    if (stale) console.error("infra/dashboard.yml is stale: run npm run dashboard");
    process.exit(stale ? 1 : 0);
  }
  writeFileSync(DASHBOARD_PATH, expected);
  console.log(`wrote ${DASHBOARD_PATH}`);
}
