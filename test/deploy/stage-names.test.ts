// A second stage in the same account: none of its stacks creates a name the first stage's stacks already hold.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PackagedService, packageService, REPO_ROOT } from "./package-service.ts";
import { physicalNames, type Template } from "./physical-names.ts";

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
