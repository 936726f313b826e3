// Every infra/ template creates in moto's CloudFormation, each resource moto implements created, the rest named.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deployTemplate } from "./deploy-stack.ts";
import { infraText, MOTO_WORKAROUNDS, motoText } from "./moto-templates.ts";
import { REPO_ROOT } from "./package-service.ts";

const ACCOUNT = "123456789012"; // moto's default account
const KEY_ARN = `arn:aws:kms:eu-north-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;

/** The parameters each template needs (the rest have defaults). */
const PARAMETERS: Record<string, Record<string, string>> = {
  "alarms.yml": {
    ServiceStage: "prod",
    AlarmTopicArn: `arn:aws:sns:eu-north-1:${ACCOUNT}:security-alarms`,
    SigningKeyArns: KEY_ARN,
    CloudTrailLogGroupName: "aws-cloudtrail-logs-management",
  },
  "apigateway-account.yml": {},
  "audit-queries.yml": {},
  "dashboard.yml": { ServiceStage: "prod" },
  "kms-key.yml": {
    AdministratorArns: `arn:aws:iam::${ACCOUNT}:role/kms-admin`,
    AuditorArns: `arn:aws:iam::${ACCOUNT}:role/security-audit`,
  },
  "prerequisites.yml": { AlarmEmail: "oncall@example.com" },
  "account-guard-scp.yml": {
    BrokerAccountId: ACCOUNT,
    ServiceRegion: "eu-north-1",
    DeployerRoleArns: `arn:aws:iam::${ACCOUNT}:role/broker-deployer`,
  },
  "perimeter-alarms.yml": {
    ServiceRegion: "eu-north-1",
    AlarmTopicArn: `arn:aws:sns:eu-north-1:${ACCOUNT}:security-alarms`,
    Watch: "all",
    SecretArns: `arn:aws:secretsmanager:eu-north-1:${ACCOUNT}:secret:broker-key-AbCdEf`,
    PidPseudonymKeyArn: KEY_ARN,
    LambdaDataEvents: "true",
  },
};

/**
 * moto's CloudFormation (moto 5.2) has no model for these types: it skips them with "Tried to parse <type> but it's
 * not supported by moto's CloudFormation implementation" and leaves an unnamed row. Only cfn-lint (template.test.ts)
 * checks them: the alarms, the CloudTrail metric filters, the saved queries, the API Gateway account setting, the
 * alarm topic's policy and subscription, the trails and their bucket policies, and the service control policy
 * (perimeter.test.ts reads their content).
 */
const MOTO_UNSUPPORTED: Record<string, string[]> = {
  "alarms.yml": ["AWS::CloudWatch::Alarm", "AWS::Logs::MetricFilter"],
  "apigateway-account.yml": ["AWS::ApiGateway::Account"],
  "audit-queries.yml": ["AWS::Logs::QueryDefinition"],
  "dashboard.yml": [],
  "kms-key.yml": [],
  "prerequisites.yml": [
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
    "AWS::S3::BucketPolicy",
    "AWS::CloudTrail::Trail",
  ],
  "account-guard-scp.yml": ["AWS::Organizations::Policy"],
  "perimeter-alarms.yml": ["AWS::CloudTrail::Trail", "AWS::S3::BucketPolicy"],
};

/** The `  LogicalId:\n    Type: X` pairs of a template's Resources. */
function templateResources(file: string): [string, string][] {
  const text = infraText(file);
  const resources = text.slice(text.indexOf("\nResources:"), text.indexOf("\nOutputs:") >>> 0);
  return [...resources.matchAll(/^ {2}(\w+):\n {4}Type: (\S+)$/gm)].map((m) => [m[1] ?? "", m[2] ?? ""]);
}

describe("infra/ templates in moto's CloudFormation", () => {
  const files = readdirSync(join(REPO_ROOT, "infra")).filter((file) => file.endsWith(".yml"));

  it("has parameters and a moto gap list for every template", () => {
    expect(Object.keys(PARAMETERS).sort()).toEqual(files.sort());
    expect(Object.keys(MOTO_UNSUPPORTED).sort()).toEqual(files.sort());
  });

  it.each(files)("%s: the stack completes and every resource moto implements is created", async (file) => {
    if (MOTO_WORKAROUNDS[file] !== undefined) expect(motoText(file)).not.toBe(infraText(file));
    const stack = await deployTemplate(
      motoText(file),
      `broker-${file.replace(".yml", "")}`,
      PARAMETERS[file] ?? {},
    );
    expect(stack.status).toBe("CREATE_COMPLETE");
    const created = new Map(stack.resources.map((r) => [r.LogicalResourceId, r]));
    const gap = MOTO_UNSUPPORTED[file] ?? [];
    const skipped = new Set<string>();
    const resources = templateResources(file);
    expect(resources.length).toBeGreaterThan(0);
    for (const [id, type] of resources) {
      if (gap.includes(type)) {
        skipped.add(type);
        expect(created.has(id), `${id}: moto created a ${type}; drop it from MOTO_UNSUPPORTED`).toBe(false);
        continue;
      }
      expect(created.get(id)?.ResourceType, id).toBe(type);
      expect(created.get(id)?.ResourceStatus, id).toBe("CREATE_COMPLETE");
    }
    expect([...skipped].sort()).toEqual([...gap].sort());
  });
});
