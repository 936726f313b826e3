// The packaged CloudFormation template, parsed: private API for named callers, IAM on every method, a role per
// function with exactly the key access it needs, capped token concurrency.
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployLikeSls } from "./deploy-stack.ts";
import {
  type CloudFormationTemplate,
  type PackagedService,
  packageService,
  REPO_ROOT,
} from "./package-service.ts";

const SECRET_ARN = "arn:aws:secretsmanager:eu-north-1:444455556666:secret:maskinporten-broker-key-AbCdEf";
const KMS_ARN = "arn:aws:kms:eu-north-1:111122223333:key/00000000-0000-0000-0000-000000000000";
/** The keys of clients.example.json. */
const CLIENT_KMS_ARNS = [1, 2].map(
  (n) => `arn:aws:kms:eu-north-1:111122223333:key/00000000-0000-0000-0000-00000000000${n}`,
);
const SPLIT_ENDPOINTS = { "Fn::Split": [",", "vpce-0123456789abcdef0"] };
const ORG_ID = "o-a1b2c3d4e5";
const CALLER_ARNS = ["arn:aws:iam::111122223333:role/payroll-*", "arn:aws:iam::444455556666:role/vat-svc"];

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

const FUNCTIONS = {
  token: "TokenLambdaFunction",
  jwks: "JwksLambdaFunction",
  health: "HealthLambdaFunction",
  keyWatch: "KeyWatchLambdaFunction",
};
type FunctionName = keyof typeof FUNCTIONS;

/** The logical id of the role `fn` runs with (its `Role` is `Fn::GetAtt: [<role>, Arn]`). */
function roleIdOf(template: CloudFormationTemplate, fn: FunctionName): string {
  const role = template.Resources[FUNCTIONS[fn]]?.Properties?.Role as { "Fn::GetAtt": [string, string] };
  expect(role["Fn::GetAtt"][1]).toBe("Arn");
  return role["Fn::GetAtt"][0];
}

/** Every statement of the role `fn` runs with, after checking it has no managed policies. */
function roleStatements(template: CloudFormationTemplate, fn: FunctionName): Statement[] {
  const role = template.Resources[roleIdOf(template, fn)];
  expect(role?.Type).toBe("AWS::IAM::Role");
  expect(role?.Properties?.ManagedPolicyArns).toBeUndefined();
  const policies = role?.Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

/** What the role `fn` runs with is allowed beyond its logs. */
const keyStatements = (template: CloudFormationTemplate, fn: FunctionName) =>
  roleStatements(template, fn).filter(
    (s) => s.Effect === "Allow" && actionsOf(s).some((a) => !a.startsWith("logs:")),
  );

/** The actions that use a key or read key material. */
const KEY_USE = ["kms:Sign", "kms:GenerateMac", "secretsmanager:GetSecretValue"];

const allowOf = (template: CloudFormationTemplate): Statement[] => {
  const policy = resourcesOf(template, "AWS::ApiGateway::RestApi")[0]?.[1].Properties?.Policy as {
    Statement: Statement[];
  };
  return policy.Statement.filter((s) => s.Effect === "Allow");
};

const environmentOf = (template: CloudFormationTemplate) =>
  resourcesOf(template, "AWS::Lambda::Function").map(
    ([, fn]) => (fn.Properties?.Environment as { Variables?: Record<string, string> } | undefined)?.Variables,
  );

const ADMIN_KEY_ARN = "arn:aws:kms:eu-north-1:111122223333:key/00000000-0000-0000-0000-0000000000ad";

let kms: PackagedService;
let secretsManager: PackagedService;
let withKid: PackagedService;
let severalClients: PackagedService;

beforeAll(async () => {
  [kms, secretsManager, withKid, severalClients] = await Promise.all([
    packageService({ callerPrincipalArns: CALLER_ARNS.join(",") }),
    packageService({ signingKeySource: "secretsmanager", signingKeyArn: SECRET_ARN, callerOrgId: ORG_ID }),
    packageService({
      signingKid: "broker-2026-01",
      callerOrgId: ORG_ID,
      callerPrincipalArns: CALLER_ARNS[0] ?? "",
      tokenReservedConcurrency: "7",
      keyAdminClientId: "00000000-0000-0000-0000-0000000000ad",
      keyAdminSigningKey: `kms:${ADMIN_KEY_ARN}`,
      keyAdminSigningKid: "admin-2026-01",
      pidPseudonymKey: `secretsmanager:${SECRET_ARN}`,
    }),
    packageService({
      clients: "several",
      clientSigningKeys: CLIENT_KMS_ARNS.map((arn) => `kms:${arn}`).join(","),
      callerOrgId: ORG_ID,
    }),
  ]);
}, 240_000);

afterAll(() => {
  kms?.remove();
  secretsManager?.remove();
  withKid?.remove();
  severalClients?.remove();
});

describe("npm run package", () => {
  it("writes the template and one zip per function, and prints the bundle size", () => {
    expect(
      readdirSync(kms.output)
        .filter((f) => f.endsWith(".zip"))
        .sort(),
    ).toEqual(["health.zip", "jwks.zip", "keyWatch.zip", "token.zip"]);
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
    const allows = allowOf(kms.template);
    expect(allows).toHaveLength(1);
    expect(actionsOf(allows[0] as Statement)).toEqual(["execute-api:Invoke"]);
    expect(allows[0]?.Condition?.StringEquals).toEqual({ "aws:SourceVpce": SPLIT_ENDPOINTS });
    expect(policy.Statement.filter((s) => s.Effect === "Deny")).toEqual([
      {
        Effect: "Deny",
        Principal: "*",
        Action: ["execute-api:Invoke"],
        Resource: "execute-api:/*",
        Condition: { StringNotEquals: { "aws:SourceVpce": SPLIT_ENDPOINTS } },
      },
    ]);
  });

  it("admits only the named principal ARN patterns (aws:PrincipalArn), other accounts included", () => {
    expect(allowOf(kms.template)[0]?.Condition).toEqual({
      StringEquals: { "aws:SourceVpce": SPLIT_ENDPOINTS },
      ArnLike: { "aws:PrincipalArn": CALLER_ARNS },
    });
  });

  it("admits only the named organisation's principals (aws:PrincipalOrgID)", () => {
    expect(allowOf(secretsManager.template)[0]?.Condition).toEqual({
      StringEquals: { "aws:SourceVpce": SPLIT_ENDPOINTS, "aws:PrincipalOrgID": ORG_ID },
    });
  });

  it("with both named, admits only a principal of the organisation that also matches a pattern", () => {
    expect(allowOf(withKid.template)[0]?.Condition).toEqual({
      StringEquals: { "aws:SourceVpce": SPLIT_ENDPOINTS, "aws:PrincipalOrgID": ORG_ID },
      ArnLike: { "aws:PrincipalArn": [CALLER_ARNS[0]] },
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
    const template = (stage.AccessLogSetting as { Format: string }).Format;
    // API Gateway writes $context.error.messageString quoted and escaped: the line stays JSON whatever the message.
    expect(template).toContain('"error":$context.error.messageString}');
    expect(template).not.toContain("$context.error.message,");
    const line = template.replace("$context.error.messageString", JSON.stringify('Forbidden "x", really'));
    const format = JSON.parse(line) as Record<string, string>;
    expect(format).toMatchObject({
      userArn: "$context.identity.userArn",
      vpceId: "$context.identity.vpceId",
      error: 'Forbidden "x", really',
    });
    for (const [, deployment] of resourcesOf(kms.template, "AWS::ApiGateway::Deployment")) {
      expect(deployment.Properties?.StageName).toBeUndefined();
    }
  });
});

describe("the function roles", () => {
  it("are one per function: four distinct roles, no shared osls role", () => {
    for (const template of [kms.template, secretsManager.template, withKid.template]) {
      const roles = resourcesOf(template, "AWS::IAM::Role").map(([id]) => id);
      expect(roles).not.toContain("IamRoleLambdaExecution");
      expect(roles.length).toBeGreaterThanOrEqual(4);
      const used = (Object.keys(FUNCTIONS) as FunctionName[]).map((fn) => roleIdOf(template, fn));
      expect(new Set(used).size).toBe(used.length);
      for (const id of used) expect(roles).toContain(id);
    }
  });

  it("token may kms:Sign and kms:GetPublicKey on the configured key only", () => {
    expect(keyStatements(kms.template, "token")).toEqual([
      { Effect: "Allow", Action: ["kms:Sign", "kms:GetPublicKey"], Resource: [KMS_ARN] },
    ]);
  });

  it("jwks may only kms:GetPublicKey on the configured key: no kms:Sign, no secret", () => {
    expect(keyStatements(kms.template, "jwks")).toEqual([
      { Effect: "Allow", Action: ["kms:GetPublicKey"], Resource: [KMS_ARN] },
    ]);
  });

  it("with several clients, token may sign with each configured key and nothing else; jwks reads each public key", () => {
    expect(keyStatements(severalClients.template, "token")).toEqual([
      { Effect: "Allow", Action: ["kms:Sign", "kms:GetPublicKey"], Resource: CLIENT_KMS_ARNS },
    ]);
    expect(keyStatements(severalClients.template, "jwks")).toEqual([
      { Effect: "Allow", Action: ["kms:GetPublicKey"], Resource: CLIENT_KMS_ARNS },
    ]);
    expect(keyStatements(severalClients.template, "keyWatch")).toEqual([
      { Effect: "Allow", Action: ["kms:Sign", "kms:GetPublicKey"], Resource: CLIENT_KMS_ARNS },
    ]);
  });

  it("the key watch signs its admin token with the configured key, or reads the secret, and nothing else", () => {
    expect(keyStatements(kms.template, "keyWatch")).toEqual([
      { Effect: "Allow", Action: ["kms:Sign", "kms:GetPublicKey"], Resource: [KMS_ARN] },
    ]);
    expect(keyStatements(secretsManager.template, "keyWatch")).toEqual([
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [SECRET_ARN] },
    ]);
  });

  it("with a separate admin client, the key watch signs with its key only and reads the serving key's public half", () => {
    expect(keyStatements(withKid.template, "keyWatch")).toEqual([
      { Effect: "Allow", Action: ["kms:Sign", "kms:GetPublicKey"], Resource: [ADMIN_KEY_ARN] },
      { Effect: "Allow", Action: ["kms:GetPublicKey"], Resource: [KMS_ARN] },
    ]);
    // The token role never gets the admin key.
    expect(JSON.stringify(roleStatements(withKid.template, "token"))).not.toContain(ADMIN_KEY_ARN);
    const environment = withKid.template.Resources.KeyWatchLambdaFunction?.Properties?.Environment as {
      Variables: Record<string, string>;
    };
    expect(environment.Variables).toMatchObject({
      KEY_ADMIN_CLIENT_ID: "00000000-0000-0000-0000-0000000000ad",
      KEY_ADMIN_SIGNING_KEY: `kms:${ADMIN_KEY_ARN}`,
      KEY_ADMIN_SIGNING_KID: "admin-2026-01",
    });
    for (const fn of ["token", "jwks", "health"] as const) {
      const environment = withKid.template.Resources[FUNCTIONS[fn]]?.Properties?.Environment as
        | { Variables?: Record<string, string> }
        | undefined;
      const variables = environment?.Variables ?? {};
      expect(
        Object.keys(variables).filter((name) => name.startsWith("KEY_ADMIN")),
        fn,
      ).toEqual([]);
    }
  });

  it("jwks and health have no kms:Sign and no secretsmanager:GetSecretValue (KMS key)", () => {
    for (const fn of ["jwks", "health"] as const) {
      const actions = roleStatements(kms.template, fn)
        .filter((s) => s.Effect === "Allow")
        .flatMap(actionsOf);
      expect(actions).not.toContain("kms:Sign");
      expect(actions).not.toContain("secretsmanager:GetSecretValue");
    }
  });

  it("health touches no key at all: no KMS, no Secrets Manager", () => {
    for (const template of [kms.template, secretsManager.template]) {
      const actions = roleStatements(template, "health").flatMap(actionsOf);
      expect(actions.filter((a) => !a.startsWith("logs:"))).toEqual([]);
      expect(JSON.stringify(roleStatements(template, "health"))).not.toMatch(/kms|secretsmanager/);
    }
  });

  it("token may secretsmanager:GetSecretValue on the configured secret only, when the key is a secret", () => {
    expect(keyStatements(secretsManager.template, "token")).toEqual([
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [SECRET_ARN] },
    ]);
    const env = resourcesOf(secretsManager.template, "AWS::Lambda::Function")[0]?.[1].Properties?.Environment;
    expect(env).toMatchObject({ Variables: { SIGNING_KEY: `secretsmanager:${SECRET_ARN}` } });
  });

  it("jwks reads that one secret (where the public half lives) and never signs with KMS", () => {
    expect(keyStatements(secretsManager.template, "jwks")).toEqual([
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [SECRET_ARN] },
    ]);
  });

  it("each role that may sign, MAC or read a key secret denies that outside its own function (lambda:SourceFunctionArn)", () => {
    const variants = [kms, secretsManager, withKid, severalClients].map((p) => p.template);
    let bound = 0;
    for (const template of variants) {
      for (const fn of Object.keys(FUNCTIONS) as FunctionName[]) {
        const allowed = keyStatements(template, fn).flatMap(actionsOf);
        const denies = roleStatements(template, fn).filter((s) => s.Effect === "Deny");
        if (!allowed.some((a) => KEY_USE.includes(a) || a === "kms:GetPublicKey")) {
          expect(denies, fn).toEqual([]);
          continue;
        }
        // The function's own name, as the template gives it: the condition names that function and no other.
        const name = template.Resources[FUNCTIONS[fn]]?.Properties?.FunctionName as string;
        expect(denies, fn).toEqual([
          {
            Sid: "KeysOnlyFromOwnFunction",
            Effect: "Deny",
            Action: KEY_USE,
            Resource: "*",
            Condition: {
              ArnNotEquals: {
                "lambda:SourceFunctionArn": {
                  "Fn::Sub": `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${name}`,
                },
              },
            },
          },
        ]);
        if (allowed.some((a) => KEY_USE.includes(a))) bound++;
      }
    }
    // token and keyWatch in every variant, jwks where it reads a secret (Secrets Manager, the pid secret).
    expect(bound).toBe(10);
  });

  it('otherwise only write their own logs, and never on a "*" resource', () => {
    for (const template of [kms.template, secretsManager.template]) {
      for (const fn of Object.keys(FUNCTIONS) as FunctionName[]) {
        const statements = roleStatements(template, fn).filter((s) => s.Effect === "Allow");
        for (const statement of statements) {
          expect(JSON.stringify(statement.Resource)).not.toContain('"*"');
          const logs = actionsOf(statement).filter((a) => a.startsWith("logs:"));
          if (logs.length === 0) continue;
          expect(logs.sort()).toEqual(actionsOf(statement).sort());
        }
      }
    }
  });

  it("each writes log streams of exactly its own function's log group (no prefix: dev is not dev2)", () => {
    for (const template of [kms.template, secretsManager.template]) {
      for (const [fn, group] of [
        ["token", "TokenLogGroup"],
        ["jwks", "JwksLogGroup"],
        ["health", "HealthLogGroup"],
        ["keyWatch", "KeyWatchLogGroup"],
      ] as const) {
        const logs = roleStatements(template, fn).filter((s) =>
          actionsOf(s).some((a) => a.startsWith("logs:")),
        );
        // A LogGroup's Arn attribute is `arn:...:log-group:<exact name>:*`: its log streams, nothing more.
        expect(logs).toEqual([
          {
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: { "Fn::GetAtt": [group, "Arn"] },
          },
        ]);
      }
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
        KeyWatchLogGroup: "/aws/lambda/maskinporten-broker-dev-keyWatch",
      });
      for (const name of Object.values(names)) expect(name).not.toContain("*");
    }
  });

  it("are named as infra/kms-key.yml names the signer (maskinporten-broker-<stage>-<region>-<function>)", () => {
    const suffix = { token: "token", jwks: "jwks", health: "health", keyWatch: "key-watch" };
    for (const fn of Object.keys(FUNCTIONS) as FunctionName[]) {
      expect(kms.template.Resources[roleIdOf(kms.template, fn)]?.Properties?.RoleName).toEqual({
        "Fn::Sub": `maskinporten-broker-dev-\${AWS::Region}-${suffix[fn]}`,
      });
    }
  });
});

describe("the key watch", () => {
  it("is triggered by a daily schedule (EventBridge), which may invoke it", () => {
    const rules = resourcesOf(kms.template, "AWS::Events::Rule");
    expect(rules).toHaveLength(1);
    const [ruleId, rule] = rules[0] ?? [];
    expect(rule?.Properties).toMatchObject({
      ScheduleExpression: "cron(0 6 * * ? *)",
      State: "ENABLED",
      Targets: [{ Arn: { "Fn::GetAtt": ["KeyWatchLambdaFunction", "Arn"] } }],
    });
    const permissions = resourcesOf(kms.template, "AWS::Lambda::Permission").filter(
      ([, p]) => p.Properties?.Principal === "events.amazonaws.com",
    );
    expect(permissions.map(([, p]) => p.Properties)).toEqual([
      expect.objectContaining({
        FunctionName: { "Fn::GetAtt": ["KeyWatchLambdaFunction", "Arn"] },
        SourceArn: { "Fn::GetAtt": [ruleId, "Arn"] },
      }),
    ]);
  });

  it("has no API route, a longer timeout, and renews only when keyAutoRenew says so", () => {
    const methods = resourcesOf(kms.template, "AWS::ApiGateway::Method");
    expect(JSON.stringify(methods)).not.toContain("KeyWatchLambdaFunction");
    const fn = kms.template.Resources.KeyWatchLambdaFunction?.Properties;
    expect(fn?.Timeout).toBe(300);
    const environment = fn?.Environment as { Variables?: Record<string, unknown> } | undefined;
    expect(environment?.Variables).toMatchObject({
      KEY_AUTO_RENEW: "false",
      KEY_EXPIRY_WARN_DAYS: "30",
      KEY_ADMIN_CLIENT: "",
      KEY_ADMIN_CLIENT_ID: "",
      KEY_ADMIN_SIGNING_KEY: "",
    });
  });
});

describe("concurrency", () => {
  it("token has reserved concurrency (default 20, the tokenReservedConcurrency param); the others share the pool", () => {
    const reserved = (template: CloudFormationTemplate, fn: FunctionName) =>
      template.Resources[FUNCTIONS[fn]]?.Properties?.ReservedConcurrentExecutions;
    expect(reserved(kms.template, "token")).toBe(20);
    expect(reserved(withKid.template, "token")).toBe(7);
    expect(reserved(kms.template, "jwks")).toBeUndefined();
    expect(reserved(kms.template, "health")).toBeUndefined();
  });
});

describe("the functions", () => {
  it("run nodejs24.x on arm64, all of them (no custom-resource functions)", () => {
    const functions = resourcesOf(kms.template, "AWS::Lambda::Function");
    expect(functions.map(([id]) => id).sort()).toEqual([
      "HealthLambdaFunction",
      "JwksLambdaFunction",
      "KeyWatchLambdaFunction",
      "TokenLambdaFunction",
    ]);
    for (const [id, fn] of functions) {
      expect(fn.Properties?.Runtime, id).toBe("nodejs24.x");
      expect(fn.Properties?.Architectures, id).toEqual(["arm64"]);
    }
  });

  it("with several clients, read CLIENTS_FILE (bundled) and no single-client variable", async () => {
    const { stdout } = await promisify(execFile)("unzip", ["-Z1", join(severalClients.output, "token.zip")]);
    expect(stdout.split("\n")).toContain("clients.example.json");
    const variables = environmentOf(severalClients.template);
    expect(variables).toHaveLength(4);
    for (const v of variables) {
      expect(v).toMatchObject({
        CLIENTS_FILE: "clients.example.json",
        MASKINPORTEN_CLIENT_ID: "",
        SIGNING_KEY: "",
        SIGNING_KID: "",
        SIGNING_ALG: "",
      });
    }
    for (const v of environmentOf(kms.template)) expect(v?.CLIENTS_FILE).toBe("");
  });

  it("leave SIGNING_KID empty (unset: thumbprint kid or x5c) unless signingKid is given", () => {
    const defaults = [...environmentOf(kms.template), ...environmentOf(secretsManager.template)];
    expect(defaults).toHaveLength(8);
    for (const variables of defaults) expect(variables?.SIGNING_KID).toBe("");
    const given = environmentOf(withKid.template);
    expect(given).toHaveLength(4);
    for (const variables of given) expect(variables?.SIGNING_KID).toBe("broker-2026-01");
  });

  it("keep their logs when the stack goes, with a retention", () => {
    for (const [id, group] of resourcesOf(kms.template, "AWS::Logs::LogGroup")) {
      expect(group, id).toMatchObject({ DeletionPolicy: "Retain", Properties: { RetentionInDays: 365 } });
    }
  });
});

/**
 * moto's CloudFormation (moto 5.2) has no model for these types: it skips them with the warning "Tried to parse
 * <type> but it's not supported by moto's CloudFormation implementation" and leaves an unnamed row in the stack's
 * resources. Everything else in the template is created by moto's real service backends (IAM, Lambda with code
 * read from the uploaded zip, API Gateway, CloudWatch Logs, EventBridge, S3). These two are checked only by
 * cfn-lint and the template tests above: the stage (throttling, access log) and the deployment bucket's
 * TLS-only policy (osls' own).
 */
const MOTO_UNSUPPORTED = ["AWS::ApiGateway::Stage", "AWS::S3::BucketPolicy"];

describe("sls deploy (into moto's CloudFormation)", () => {
  it("creates the stack, uploads the zips, updates it, and every resource of the template is created", async () => {
    const stack = await deployLikeSls(kms.output, "maskinporten-broker-dev");
    expect(stack.status).toBe("UPDATE_COMPLETE");
    const created = new Map(stack.resources.map((r) => [r.LogicalResourceId, r]));
    const skipped = new Set<string>();
    for (const [id, resource] of Object.entries(kms.template.Resources)) {
      if (MOTO_UNSUPPORTED.includes(resource.Type)) {
        skipped.add(resource.Type);
        expect(created.has(id), `${id}: moto created a ${resource.Type}; drop it from MOTO_UNSUPPORTED`).toBe(
          false,
        );
        continue;
      }
      expect(created.get(id)?.ResourceType, id).toBe(resource.Type);
      expect(created.get(id)?.ResourceStatus, id).toMatch(/^(CREATE|UPDATE)_COMPLETE$/);
    }
    expect([...skipped].sort()).toEqual(MOTO_UNSUPPORTED);
    const physical = (id: string) => created.get(id)?.PhysicalResourceId;
    expect(physical("TokenLambdaFunction")).toBe("maskinporten-broker-dev-token");
    expect(physical("TokenRole")).toBe("maskinporten-broker-dev-eu-north-1-token");
    expect(physical("ApiGatewayAccessLogGroup")).toBe("/aws/api-gateway/maskinporten-broker-dev");
  }, 60_000);

  it("fails the update when the function zips were not uploaded", async () => {
    // moto answers 400 when a function's S3 code does not exist (its body is not the XML the SDK expects).
    await expect(
      deployLikeSls(kms.output, "maskinporten-broker-nozips", { uploadZips: false }),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
  }, 60_000);
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
