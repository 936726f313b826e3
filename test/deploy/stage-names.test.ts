// A second stage in the same account: none of its stacks creates a name the first stage's stacks already hold.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PackagedService, packageService, REPO_ROOT } from "./package-service.ts";
import { evaluator, physicalNames, type Template } from "./physical-names.ts";

const ACCOUNT = "111122223333";
const KEY_ARN = `arn:aws:kms:eu-north-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
const STAGES = ["blue", "green"] as const;
type Stage = (typeof STAGES)[number];

/** The infra/ templates deployed once per stage, each variant a stage deploys, with the parameters it needs. */
const PER_STAGE: Record<string, ((stage: Stage) => Record<string, string>)[]> = {
  "kms-key.yml": ["serving", "admin"].map((KeyRole) => (stage: Stage) => ({
    ServiceStage: stage,
    KeyRole,
    AdministratorArns: `arn:aws:iam::${ACCOUNT}:role/kms-admin`,
    AuditorArns: `arn:aws:iam::${ACCOUNT}:role/security-audit`,
  })),
  "perimeter-alarms.yml": [
    (stage) => ({
      ServiceStage: stage,
      ServiceRegion: "eu-north-1",
      AlarmTopicArn: `arn:aws:sns:eu-north-1:${ACCOUNT}:maskinporten-broker-alarms`,
      Watch: "all",
      LambdaDataEvents: "true",
    }),
  ],
  "account-guard-scp.yml": [
    (stage) => ({
      ServiceStage: stage,
      ServiceRegion: "eu-north-1",
      BrokerAccountId: ACCOUNT,
      DeployerRoleArns: `arn:aws:iam::${ACCOUNT}:role/deployer`,
    }),
  ],
  "alarms.yml": [
    (stage) => ({
      ServiceStage: stage,
      AlarmTopicArn: `arn:aws:sns:eu-north-1:${ACCOUNT}:maskinporten-broker-alarms`,
      SigningKeyArns: KEY_ARN,
      CloudTrailLogGroupName: "maskinporten-broker-management",
    }),
  ],
  "audit-queries.yml": [(stage) => ({ ServiceStage: stage })],
  "dashboard.yml": [(stage) => ({ ServiceStage: stage })],
};

/** Deployed once per account, shared by every stage in it (docs/deployment.md says so at each). */
const PER_ACCOUNT = ["apigateway-account.yml", "prerequisites.yml"];

/** cfn-lint's own YAML reader: the short forms (`!Sub`, `!If`, ...) become the long ones, as CloudFormation reads them. */
const LOAD_TEMPLATES = [
  "import json, sys",
  "from cfnlint.decode import cfn_yaml",
  "print(json.dumps({path: cfn_yaml.load(path) for path in sys.argv[1:]}))",
].join("\n");

const packaged = new Map<Stage, PackagedService>();
const infra = new Map<string, Template>();

beforeAll(async () => {
  const files = Object.keys(PER_STAGE);
  const loaded = JSON.parse(
    execFileSync("python3", ["-c", LOAD_TEMPLATES, ...files], {
      cwd: join(REPO_ROOT, "infra"),
      encoding: "utf8",
    }),
  ) as Record<string, Template>;
  for (const file of files) infra.set(file, loaded[file] as Template);
  const services = await Promise.all(
    STAGES.map((stage) =>
      packageService({ callerOrgId: "o-a1b2c3d4e5" }, ["--stage", stage]).then(
        (service) => [stage, service] as const,
      ),
    ),
  );
  for (const [stage, service] of services) packaged.set(stage, service);
}, 240_000);

afterAll(() => {
  for (const service of packaged.values()) service.remove();
});

/** Every name stage `stage` creates: its service stack and each per-stage infra/ stack. */
function namesOf(stage: Stage): string[] {
  const service = packaged.get(stage);
  if (service === undefined) throw new Error(`stage ${stage} was not packaged`);
  const names = physicalNames(service.template as unknown as Template, {});
  for (const [file, variants] of Object.entries(PER_STAGE)) {
    const template = infra.get(file);
    if (template === undefined) throw new Error(`${file} was not loaded`);
    for (const parameters of variants) names.push(...physicalNames(template, parameters(stage)));
  }
  return names;
}

describe("two stages in one account", () => {
  it("every infra/ template is placed: deployed per stage, or once per account", () => {
    const files = readdirSync(join(REPO_ROOT, "infra")).filter((file) => file.endsWith(".yml"));
    expect([...Object.keys(PER_STAGE), ...PER_ACCOUNT].sort()).toEqual(files.sort());
  });

  it("the key alias, the roles, log groups, alarms, rules, queries and dashboard carry the stage", () => {
    const names = namesOf("blue");
    expect(names).toContain("AWS::KMS::Alias alias/maskinporten-broker-blue");
    expect(names).toContain("AWS::KMS::Alias alias/maskinporten-broker-admin-blue");
    expect(names).toContain("AWS::IAM::Role maskinporten-broker-blue-eu-north-1-token");
    expect(names).toContain("AWS::Logs::LogGroup /aws/api-gateway/maskinporten-broker-blue");
    expect(names).toContain("AWS::CloudWatch::Alarm maskinporten-broker-blue-signing-errors");
    expect(names).toContain("AWS::Events::Rule maskinporten-broker-blue-key-change");
    expect(names).toContain("AWS::CloudWatch::Dashboard maskinporten-broker-blue");
    expect(names.filter((name) => name.startsWith("AWS::Logs::QueryDefinition "))).not.toEqual([]);
  });

  it("share no name, and no metric a metric filter writes", () => {
    const [blue, green] = STAGES.map(namesOf);
    expect(blue?.filter((name) => green?.includes(name))).toEqual([]);
  });

  it("within one stage, no two resources (of any of its stacks) want the same name", () => {
    const names = namesOf("green");
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
  });
});

/** POWERTOOLS_SERVICE_NAME of each function of stage `stage`'s packaged service: the metrics' `service` dimension. */
function emittedServices(stage: Stage): string[] {
  const template = packaged.get(stage)?.template as unknown as Template;
  const values = Object.values(template.Resources)
    .filter((resource) => resource.Type === "AWS::Lambda::Function")
    .map((resource) => {
      const environment = resource.Properties?.Environment as
        | { Variables?: Record<string, unknown> }
        | undefined;
      return evaluator(template, {})(environment?.Variables?.POWERTOOLS_SERVICE_NAME as string);
    });
  return [...new Set(values.map(String))];
}

/**
 * The `service` value every TokenBroker metric alarms.yml and dashboard.yml read for stage `stage`: an alarm's
 * service dimension, a Metrics Insights `WHERE service = '…'`, a dashboard row's `"service", "…"` and a SEARCH's
 * `service="…"`. A metric of the namespace that names no service counts as "(any)".
 */
function watchedServices(stage: Stage): { alarms: string[]; dashboard: string[] } {
  const watched = { alarms: [] as string[], dashboard: [] as string[] };
  const alarms = infra.get("alarms.yml") as Template;
  const evaluate = evaluator(alarms, PER_STAGE["alarms.yml"]?.[0]?.(stage) ?? {});
  for (const resource of Object.values(alarms.Resources).filter((r) => r.Type === "AWS::CloudWatch::Alarm")) {
    const properties = evaluate(resource.Properties ?? {}) as {
      Namespace?: string;
      Dimensions?: { Name: string; Value: string }[];
      Metrics?: { Expression?: string; MetricStat?: { Metric: { Namespace: string } } }[];
    };
    if (properties.Namespace === "TokenBroker") {
      watched.alarms.push(properties.Dimensions?.find((d) => d.Name === "service")?.Value ?? "(any)");
    }
    for (const metric of properties.Metrics ?? []) {
      const insights = /SCHEMA\("TokenBroker"[^)]*\)(?: WHERE service = '([^']+)')?/.exec(
        metric.Expression ?? "",
      );
      if (insights !== null) watched.alarms.push(insights[1] ?? "(any)");
      if (metric.MetricStat?.Metric.Namespace === "TokenBroker") watched.alarms.push("(any)");
    }
  }
  const dashboard = infra.get("dashboard.yml") as Template;
  const body = String(
    evaluator(dashboard, { ServiceStage: stage })(
      dashboard.Resources.Dashboard?.Properties?.DashboardBody ?? "",
    ),
  );
  const rows = (JSON.parse(body) as { widgets: { properties: { metrics?: unknown[][] } }[] }).widgets.flatMap(
    (widget) => widget.properties.metrics ?? [],
  );
  for (const row of rows) {
    if (row[0] === "TokenBroker") {
      const at = row.indexOf("service");
      watched.dashboard.push(at < 0 ? "(any)" : String(row[at + 1]));
    }
    const expression = String((row[0] as { expression?: unknown } | undefined)?.expression ?? "");
    if (expression.startsWith("SEARCH('{TokenBroker")) {
      watched.dashboard.push(/ service="([^"]+)"/.exec(expression)?.[1] ?? "(any)");
    }
  }
  return watched;
}

describe("two stages' metrics", () => {
  it("each stage's functions emit under a service of their own", () => {
    const [blue, green] = STAGES.map(emittedServices);
    expect(blue).toEqual(["maskinporten-broker-blue"]);
    expect(green).toEqual(["maskinporten-broker-green"]);
  });

  it("each stage's alarms and dashboard read only the metrics its own functions emit", () => {
    for (const stage of STAGES) {
      const { alarms, dashboard } = watchedServices(stage);
      // SigningErrors, UpstreamErrors, ExchangeErrors, Denied, RateLimited, key days left, key watch errors.
      expect(alarms.length, stage).toBeGreaterThanOrEqual(7);
      expect(dashboard.length, stage).toBeGreaterThan(15);
      expect([...new Set([...alarms, ...dashboard])], stage).toEqual(emittedServices(stage));
    }
  });
});
