// The packaged CloudFormation template, parsed: private API, IAM on every method, one key, nothing more.
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CloudFormationTemplate,
  type PackagedService,
  packageService,
  REPO_ROOT,
} from "./package-service.ts";

const SECRET_ARN = "arn:aws:secretsmanager:eu-north-1:444455556666:secret:maskinporten-broker-key-AbCdEf";
const KMS_ARN = "arn:aws:kms:eu-north-1:111122223333:key/00000000-0000-0000-0000-000000000000";
const SPLIT_ENDPOINTS = { "Fn::Split": [",", "vpce-0123456789abcdef0"] };

interface Statement {
  Effect: "Allow" | "Deny";
  Principal?: unknown;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const resourcesOf = (template: CloudFormationTemplate, type: string) =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

const actionsOf = (statement: Statement) => [statement.Action].flat();

function roleStatements(template: CloudFormationTemplate): Statement[] {
  const roles = resourcesOf(template, "AWS::IAM::Role");
  expect(roles.map(([id]) => id)).toEqual(["IamRoleLambdaExecution"]);
  const policies = roles[0]?.[1].Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[];
  expect(roles[0]?.[1].Properties?.ManagedPolicyArns).toBeUndefined();
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

function signingStatements(template: CloudFormationTemplate): Statement[] {
  return roleStatements(template).filter((s) => actionsOf(s).some((a) => !a.startsWith("logs:")));
}

const environmentOf = (template: CloudFormationTemplate) =>
  resourcesOf(template, "AWS::Lambda::Function").map(
    ([, fn]) => (fn.Properties?.Environment as { Variables?: Record<string, string> } | undefined)?.Variables,
  );

let kms: PackagedService;
let secretsManager: PackagedService;
let withKid: PackagedService;

beforeAll(async () => {
  [kms, secretsManager, withKid] = await Promise.all([
    packageService(),
    packageService({ signingKeySource: "secretsmanager", signingKeyArn: SECRET_ARN }),
    packageService({ signingKid: "broker-2026-01" }),
  ]);
}, 240_000);

afterAll(() => {
  kms?.remove();
  secretsManager?.remove();
  withKid?.remove();
});

describe("npm run package", () => {
  it("writes the template and one zip per function, and prints the bundle size", () => {
    expect(
      readdirSync(kms.output)
        .filter((f) => f.endsWith(".zip"))
        .sort(),
    ).toEqual(["health.zip", "jwks.zip", "token.zip"]);
    expect(kms.stdout).toMatch(/Bundle size[\s\S]*token\.zip\s+[\d.]+ KiB/);
  });
});

describe("API Gateway", () => {
  it("requires AWS_IAM on every method except OPTIONS", () => {
    const methods = resourcesOf(kms.template, "AWS::ApiGateway::Method").filter(
      ([, m]) => m.Properties?.HttpMethod !== "OPTIONS",
    );
    expect(methods.map(([, m]) => m.Properties?.HttpMethod).sort()).toEqual(["GET", "GET", "POST"]);
    for (const [id, method] of methods) {
      expect(method.Properties?.AuthorizationType, id).toBe("AWS_IAM");
    }
  });

  it("is a PRIVATE REST API bound to the configured VPC endpoint(s)", () => {
    const apis = resourcesOf(kms.template, "AWS::ApiGateway::RestApi");
    expect(apis).toHaveLength(1);
    expect(apis[0]?.[1].Properties?.EndpointConfiguration).toEqual({
      Types: ["PRIVATE"],
      VpcEndpointIds: SPLIT_ENDPOINTS,
    });
  });

  it("allows execute-api:Invoke only through those endpoints and denies everything else", () => {
    const policy = resourcesOf(kms.template, "AWS::ApiGateway::RestApi")[0]?.[1].Properties?.Policy as {
      Statement: Statement[];
    };
    const allows = policy.Statement.filter((s) => s.Effect === "Allow");
    const denies = policy.Statement.filter((s) => s.Effect === "Deny");
    expect(allows).toHaveLength(1);
    expect(actionsOf(allows[0] as Statement)).toEqual(["execute-api:Invoke"]);
    expect(allows[0]?.Condition).toEqual({ StringEquals: { "aws:SourceVpce": SPLIT_ENDPOINTS } });
    expect(denies).toContainEqual({
      Effect: "Deny",
      Principal: "*",
      Action: ["execute-api:Invoke"],
      Resource: "execute-api:/*",
      Condition: { StringNotEquals: { "aws:SourceVpce": SPLIT_ENDPOINTS } },
    });
  });

  it("throttles and access-logs the stage in the template", () => {
    const stages = resourcesOf(kms.template, "AWS::ApiGateway::Stage");
    expect(stages).toHaveLength(1);
    const stage = stages[0]?.[1].Properties ?? {};
    expect(stage.MethodSettings).toEqual([
      expect.objectContaining({
        HttpMethod: "*",
        ResourcePath: "/*",
        ThrottlingRateLimit: 50,
        ThrottlingBurstLimit: 100,
      }),
    ]);
    expect(stage.AccessLogSetting).toMatchObject({
      DestinationArn: { "Fn::GetAtt": ["ApiGatewayAccessLogGroup", "Arn"] },
    });
    const format = JSON.parse((stage.AccessLogSetting as { Format: string }).Format) as Record<
      string,
      string
    >;
    expect(format).toMatchObject({
      userArn: "$context.identity.userArn",
      vpceId: "$context.identity.vpceId",
    });
    for (const [, deployment] of resourcesOf(kms.template, "AWS::ApiGateway::Deployment")) {
      expect(deployment.Properties?.StageName).toBeUndefined();
    }
  });
});

describe("the function role", () => {
  it("may kms:Sign and kms:GetPublicKey on the configured key only", () => {
    expect(signingStatements(kms.template)).toEqual([
      { Effect: "Allow", Action: ["kms:Sign", "kms:GetPublicKey"], Resource: KMS_ARN },
    ]);
  });

  it("may secretsmanager:GetSecretValue on the configured secret only, when the key is a secret", () => {
    expect(signingStatements(secretsManager.template)).toEqual([
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: SECRET_ARN },
    ]);
    const env = resourcesOf(secretsManager.template, "AWS::Lambda::Function")[0]?.[1].Properties?.Environment;
    expect(env).toMatchObject({ Variables: { SIGNING_KEY: `secretsmanager:${SECRET_ARN}` } });
  });

  it('otherwise only writes its own logs, and never on a "*" resource', () => {
    for (const template of [kms.template, secretsManager.template]) {
      const statements = roleStatements(template);
      expect(statements.every((s) => s.Effect === "Allow")).toBe(true);
      for (const statement of statements) {
        expect(JSON.stringify(statement.Resource)).not.toContain('"*"');
        const logs = actionsOf(statement).filter((a) => a.startsWith("logs:"));
        if (logs.length === 0) continue;
        expect(logs.sort()).toEqual(actionsOf(statement).sort());
      }
      expect(statements.flatMap(actionsOf).filter((a) => !a.startsWith("logs:"))).toHaveLength(
        template === kms.template ? 2 : 1,
      );
    }
  });

  it("writes log streams of exactly this stage's three function log groups (no prefix: dev is not dev2)", () => {
    for (const template of [kms.template, secretsManager.template]) {
      const logs = roleStatements(template).filter((s) => actionsOf(s).some((a) => a.startsWith("logs:")));
      // A LogGroup's Arn attribute is `arn:...:log-group:<exact name>:*`: its log streams, nothing more.
      expect(logs).toEqual([
        {
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: ["TokenLogGroup", "JwksLogGroup", "HealthLogGroup"].map((id) => ({
            "Fn::GetAtt": [id, "Arn"],
          })),
        },
      ]);
      const names = Object.fromEntries(
        resourcesOf(template, "AWS::Logs::LogGroup").map(([id, group]) => [
          id,
          group.Properties?.LogGroupName,
        ]),
      );
      expect(names).toMatchObject({
        TokenLogGroup: "/aws/lambda/maskinporten-broker-dev-token",
        JwksLogGroup: "/aws/lambda/maskinporten-broker-dev-jwks",
        HealthLogGroup: "/aws/lambda/maskinporten-broker-dev-health",
      });
      for (const name of Object.values(names)) expect(name).not.toContain("*");
    }
  });
});

describe("the functions", () => {
  it("run nodejs24.x on arm64, all of them (no custom-resource functions)", () => {
    const functions = resourcesOf(kms.template, "AWS::Lambda::Function");
    expect(functions.map(([id]) => id).sort()).toEqual([
      "HealthLambdaFunction",
      "JwksLambdaFunction",
      "TokenLambdaFunction",
    ]);
    for (const [id, fn] of functions) {
      expect(fn.Properties?.Runtime, id).toBe("nodejs24.x");
      expect(fn.Properties?.Architectures, id).toEqual(["arm64"]);
    }
  });

  it("leave SIGNING_KID empty (unset: thumbprint kid or x5c) unless signingKid is given", () => {
    const defaults = [...environmentOf(kms.template), ...environmentOf(secretsManager.template)];
    expect(defaults).toHaveLength(6);
    for (const variables of defaults) expect(variables?.SIGNING_KID).toBe("");
    const given = environmentOf(withKid.template);
    expect(given).toHaveLength(3);
    for (const variables of given) expect(variables?.SIGNING_KID).toBe("broker-2026-01");
  });

  it("keep their logs when the stack goes, with a retention", () => {
    for (const [id, group] of resourcesOf(kms.template, "AWS::Logs::LogGroup")) {
      expect(group, id).toMatchObject({ DeletionPolicy: "Retain", Properties: { RetentionInDays: 365 } });
    }
  });
});

describe("cfn-lint", () => {
  it("finds no errors or warnings in the packaged template and every infra/ template", async () => {
    const infra = readdirSync(join(REPO_ROOT, "infra"))
      .filter((f) => f.endsWith(".yml"))
      .map((f) => join(REPO_ROOT, "infra", f));
    expect(infra.length).toBeGreaterThanOrEqual(3);
    const templates = [join(kms.output, "cloudformation-template-update-stack.json"), ...infra];
    const run = promisify(execFile)("cfn-lint", ["--format", "parseable", ...templates]);
    await expect(run.then((r) => r.stdout)).resolves.toBe("");
  }, 60_000);
});
