// The perimeter in the packaged template and infra/: names derived from the template, the alarm rules run through
// moto's EventBridge with sample CloudTrail events, the guard SCP and the key policies' signers.
import {
  CreateEventBusCommand,
  DescribeRuleCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import { GetKeyPolicyCommand, KMSClient, ListAliasesCommand } from "@aws-sdk/client-kms";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { globMatch } from "../../lib/policy/index.ts";
import { deployTemplate } from "./deploy-stack.ts";
import { decodedTemplate, motoText } from "./moto-templates.ts";
import {
  type CloudFormationResource,
  type CloudFormationTemplate,
  type PackagedService,
  packageService,
} from "./package-service.ts";

const ACCOUNT = "123456789012"; // moto's default account
const REGION = "eu-north-1";
const STAGE = "dev"; // what `npm run package` names the stage
/** A stage in the same account whose name begins with STAGE's: none of STAGE's rules or guards is about it. */
const OTHER_STAGE = `${STAGE}-${REGION}`;
const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:security-alarms`;
const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:broker-key-AbCdEf`;
const PID_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
const OPERATOR = `arn:aws:iam::${ACCOUNT}:role/broker-operator`;
const OUTSIDER = `arn:aws:sts::${ACCOUNT}:assumed-role/ci-runner/build-17`;

/** The changes the issue lists, as CloudTrail names them (Lambda's carry the API version). */
const FUNCTION_CHANGES = [
  "UpdateFunctionCode20150331v2",
  "UpdateFunctionConfiguration20150331v2",
  "AddPermission20150331v2",
  "RemovePermission20150331v2",
  "PutFunctionConcurrency20171031",
  "DeleteFunction20150331",
];
const ROLE_CHANGES = [
  "UpdateAssumeRolePolicy",
  "PutRolePolicy",
  "AttachRolePolicy",
  "DetachRolePolicy",
  "DeleteRolePolicy",
  "PutRolePermissionsBoundary",
];

let service: PackagedService;
beforeAll(async () => {
  service = await packageService({ callerOrgId: "o-a1b2c3d4e5" });
}, 240_000);
afterAll(() => service?.remove());

interface Named {
  logicalId: string;
  functionName: string;
  roleId: string;
  roleName: string;
}

/** A role's name as deployed in REGION (the template names it with `Fn::Sub`). */
function roleNameOf(role: CloudFormationResource | undefined): string {
  const name = role?.Properties?.RoleName as { "Fn::Sub": string } | undefined;
  if (name === undefined) throw new Error("a role without RoleName");
  return name["Fn::Sub"].replace(/\$\{AWS::Region\}/g, REGION);
}

/** Every function of the packaged template with its role, names as deployed in REGION. */
function functionsOf(template: CloudFormationTemplate): Named[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === "AWS::Lambda::Function")
    .map(([logicalId, resource]) => {
      const role = resource.Properties?.Role as { "Fn::GetAtt": [string, string] } | undefined;
      const roleId = role?.["Fn::GetAtt"][0] ?? "";
      const roleName = roleNameOf(template.Resources[roleId]);
      return {
        logicalId,
        functionName: resource.Properties?.FunctionName as string,
        roleId,
        roleName: roleName.replace(/\$\{AWS::Region\}/g, REGION),
      };
    });
}

const byId = (id: string) => {
  const found = functionsOf(service.template).find((f) => f.logicalId === id);
  if (found === undefined) throw new Error(`no function ${id} in the packaged template`);
  return found;
};
/** The session Lambda gives a function: its role, session named after the function. */
const sessionOf = (f: Named) => `arn:aws:sts::${ACCOUNT}:assumed-role/${f.roleName}/${f.functionName}`;
const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

/** Substitutes `${Name}` references from `values` in a Fn::Sub string. */
const sub = (text: string, values: Record<string, string>) =>
  text.replace(/\$\{([\w:]+)\}/g, (_, name: string) => values[name] ?? `\${${name}}`);

describe("the service control policy (infra/account-guard-scp.yml)", () => {
  const scp = decodedTemplate("account-guard-scp.yml").Resources.AccountGuardPolicy?.Properties as {
    Content: {
      Statement: {
        Sid: string;
        Effect: string;
        Action: string[];
        Resource: { "Fn::Sub": string }[];
        Condition: unknown;
      }[];
    };
  };
  const values = {
    "AWS::Partition": "aws",
    ServiceStage: STAGE,
    ServiceRegion: REGION,
    BrokerAccountId: ACCOUNT,
  };
  const statement = (sid: string) => {
    const found = scp.Content.Statement.find((s) => s.Sid === sid);
    if (found === undefined) throw new Error(`no statement ${sid}`);
    return { ...found, patterns: found.Resource.map((r) => sub(r["Fn::Sub"], values)) };
  };

  it("denies invoking, changing and deleting every function the stack creates to all but the deployer", () => {
    const functions = statement("OnlyTheDeployerInvokesOrChangesTheFunctions");
    expect(functions.Effect).toBe("Deny");
    expect(functions.Action).toEqual(
      expect.arrayContaining([
        "lambda:InvokeFunction",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "lambda:DeleteFunction",
        "lambda:AddPermission",
        "lambda:RemovePermission",
        "lambda:PutFunctionConcurrency",
      ]),
    );
    expect(functions.Condition).toEqual({ ArnNotLike: { "aws:PrincipalArn": { Ref: "DeployerRoleArns" } } });
    const names = functionsOf(service.template).map((f) => f.functionName);
    expect(names).toHaveLength(4);
    for (const name of names) {
      expect(
        functions.patterns.some((p) => globMatch(p, functionArn(name))),
        name,
      ).toBe(true);
    }
    expect(functions.patterns.some((p) => globMatch(p, functionArn("payroll-svc")))).toBe(false);
    for (const name of names) {
      expect(functions.patterns.some((p) => globMatch(p, `${functionArn(name)}:live`))).toBe(true);
      // A stage whose name begins with this one's (dev-x) is guarded by its own policy, not this one.
      const longer = name.replace(`-${STAGE}-`, `-${OTHER_STAGE}-`);
      expect(
        functions.patterns.some((p) => globMatch(p, functionArn(longer))),
        longer,
      ).toBe(false);
      expect(
        functions.patterns.some((p) => globMatch(p, `${functionArn(longer)}:live`)),
        longer,
      ).toBe(false);
    }
  });

  it("denies changing every role the stack creates (trust, policies, boundary, PassRole) to all but the deployer", () => {
    const roles = statement("OnlyTheDeployerChangesTheRoles");
    expect(roles.Action).toEqual(expect.arrayContaining(ROLE_CHANGES.map((change) => `iam:${change}`)));
    expect(roles.Action).toContain("iam:PassRole");
    expect(roles.Condition).toEqual({ ArnNotLike: { "aws:PrincipalArn": { Ref: "DeployerRoleArns" } } });
    const names = Object.values(service.template.Resources)
      .filter((r) => r.Type === "AWS::IAM::Role")
      .map(roleNameOf);
    expect(names).toHaveLength(4);
    for (const name of names) {
      const arn = `arn:aws:iam::${ACCOUNT}:role/${name}`;
      expect(
        roles.patterns.some((p) => globMatch(p, arn)),
        name,
      ).toBe(true);
      const longer = arn.replace(`-${STAGE}-`, `-${OTHER_STAGE}-`);
      expect(
        roles.patterns.some((p) => globMatch(p, longer)),
        longer,
      ).toBe(false);
    }
  });
});

describe("the unexplained-sign metric filter (infra/alarms.yml)", () => {
  it("counts every kms:Sign whose session is not the token or key-watch function's own", () => {
    const filter = decodedTemplate("alarms.yml").Resources.ForeignSignCallsFilter?.Properties as {
      FilterPattern: { "Fn::Join": [string, (string | { "Fn::Sub": string } | { "Fn::Join": unknown })[]] };
    };
    const parts = filter.FilterPattern["Fn::Join"][1];
    const excluded = parts
      .filter((p): p is { "Fn::Sub": string } => typeof p !== "string" && "Fn::Sub" in p)
      .map((p) =>
        sub(p["Fn::Sub"], {
          "AWS::Partition": "aws",
          "AWS::AccountId": ACCOUNT,
          "AWS::Region": REGION,
          ServiceStage: STAGE,
        }),
      );
    expect(excluded).toEqual([
      sessionOf(byId("TokenLambdaFunction")),
      sessionOf(byId("KeyWatchLambdaFunction")),
    ]);
  });
});

/** Statements of a key policy that allow or deny kms:Sign, and to whom (aws:PrincipalArn). */
async function signers(parameters: Record<string, string>, name: string) {
  const stack = await deployTemplate(motoText("kms-key.yml"), name, {
    AdministratorArns: `arn:aws:iam::${ACCOUNT}:role/kms-admin`,
    AuditorArns: `arn:aws:iam::${ACCOUNT}:role/security-audit`,
    ServiceStage: STAGE,
    ...parameters,
  });
  const keyId = stack.resources.find((r) => r.LogicalResourceId === "SigningKey")?.PhysicalResourceId;
  // moto answers the policy as a JSON object where KMS answers a string.
  const answer: unknown = (
    await new KMSClient({}).send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }))
  ).Policy;
  const policy = (typeof answer === "string" ? JSON.parse(answer) : answer) as {
    Statement: {
      Sid: string;
      Effect: string;
      Action: string | string[];
      Condition?: Record<string, Record<string, string[]>>;
    }[];
  };
  const signing = policy.Statement.filter((s) => [s.Action].flat().includes("kms:Sign"));
  const reading = policy.Statement.filter(
    (s) =>
      s.Effect === "Allow" && [s.Action].flat().includes("kms:GetPublicKey") && s.Condition !== undefined,
  );
  const allowed = signing.filter((s) => s.Effect === "Allow");
  const denied = signing.find((s) => s.Sid === "OnlyTheSignersSign");
  return {
    allowed: allowed
      .flatMap((s) => s.Condition?.ArnEquals?.["aws:PrincipalArn"] ?? ["(any principal)"])
      .sort(),
    exceptFromDeny: [denied?.Condition?.ArnNotEquals?.["aws:PrincipalArn"] ?? []].flat().sort(),
    /** Roles (named by condition) that may read the public key, signers included. */
    readers: [...new Set(reading.flatMap((s) => s.Condition?.ArnEquals?.["aws:PrincipalArn"] ?? []))].sort(),
  };
}

describe("the key policies (infra/kms-key.yml)", () => {
  const roleArn = (id: string) => `arn:aws:iam::${ACCOUNT}:role/${byId(id).roleName}`;

  it("the serving key lets no role but the token function's sign, and no human principal", async () => {
    const key = await signers({}, "perimeter-serving-key");
    expect(key.allowed).toEqual([roleArn("TokenLambdaFunction")]);
    expect(key.exceptFromDeny).toEqual([roleArn("TokenLambdaFunction")]);
  });

  it("names its alias by stage and role: two stages and an admin key in one account do not clash", async () => {
    const base = {
      AdministratorArns: `arn:aws:iam::${ACCOUNT}:role/kms-admin`,
      AuditorArns: `arn:aws:iam::${ACCOUNT}:role/security-audit`,
    };
    const deployed = [
      await deployTemplate(motoText("kms-key.yml"), "alias-stage-a", { ...base, ServiceStage: "alias-a" }),
      await deployTemplate(motoText("kms-key.yml"), "alias-stage-b", { ...base, ServiceStage: "alias-b" }),
      await deployTemplate(motoText("kms-key.yml"), "alias-admin-a", {
        ...base,
        ServiceStage: "alias-a",
        KeyRole: "admin",
        OperatorRoleArns: OPERATOR,
      }),
    ];
    const keyIds = deployed.map(
      (stack) => stack.resources.find((r) => r.LogicalResourceId === "SigningKey")?.PhysicalResourceId,
    );
    const aliases = (await new KMSClient({}).send(new ListAliasesCommand({}))).Aliases ?? [];
    expect(keyIds.map((id) => aliases.filter((a) => a.TargetKeyId === id).map((a) => a.AliasName))).toEqual([
      ["alias/maskinporten-broker-alias-a"],
      ["alias/maskinporten-broker-alias-b"],
      ["alias/maskinporten-broker-admin-alias-a"],
    ]);
  });

  it("the serving key lets the named operator role read its public key for npm run keys, never sign", async () => {
    const key = await signers({ OperatorRoleArns: OPERATOR }, "perimeter-serving-key-operator");
    expect(key.allowed).toEqual([roleArn("TokenLambdaFunction")]);
    expect(key.exceptFromDeny).toEqual([roleArn("TokenLambdaFunction")]);
    expect(key.readers).toContain(OPERATOR);
    const without = await signers({}, "perimeter-serving-key-no-operator");
    expect(without.readers).not.toContain(OPERATOR);
    expect(without.readers).toContain(roleArn("KeyWatchLambdaFunction"));
  });

  it("without a separate admin client (KeyWatchSigns), the token and key-watch functions' roles sign", async () => {
    const key = await signers({ KeyWatchSigns: "true" }, "perimeter-serving-key-watch");
    const both = [roleArn("TokenLambdaFunction"), roleArn("KeyWatchLambdaFunction")].sort();
    expect(key.allowed).toEqual(both);
    expect(key.exceptFromDeny).toEqual(both);
  });

  it("the admin client's key lets the key-watch role and the named operator role sign, not the token role", async () => {
    const key = await signers({ KeyRole: "admin", OperatorRoleArns: OPERATOR }, "perimeter-admin-key");
    const expected = [roleArn("KeyWatchLambdaFunction"), OPERATOR].sort();
    expect(key.allowed).toEqual(expected);
    expect(key.exceptFromDeny).toEqual(expected);
  });
});

interface Sample {
  id: string;
  source: string;
  detail: Record<string, unknown>;
  /** The rule (name suffix) that must match it; undefined: none may. */
  rule: string | undefined;
}

let sampleCount = 0;
/** A CloudTrail management (or data) event as EventBridge delivers it, by `who` from a private address. */
function cloudTrail(
  rule: string | undefined,
  service: string,
  eventName: string,
  who: string,
  requestParameters: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Sample {
  const id = `sample-${++sampleCount}`;
  return {
    id,
    rule,
    source: `aws.${service}`,
    detail: {
      eventID: id,
      eventSource: `${service}.amazonaws.com`,
      eventName,
      eventTime: "2026-12-03T09:00:00Z",
      userIdentity: { type: "AssumedRole", arn: who },
      sourceIPAddress: "10.0.0.9",
      requestParameters,
      ...extra,
    },
  };
}

/** How API Gateway's own invocation of the token function looks in CloudTrail's data events. */
const apiGatewayInvoke = (functionName: string) =>
  cloudTrail(
    undefined,
    "lambda",
    "Invoke",
    "",
    { functionName },
    {
      userIdentity: { type: "AWSService", invokedBy: "apigateway.amazonaws.com" },
      sourceIPAddress: "apigateway.amazonaws.com",
    },
  );

function samples(): Sample[] {
  const functions = functionsOf(service.template);
  const token = byId("TokenLambdaFunction");
  const jwks = byId("JwksLambdaFunction");
  const keyWatch = byId("KeyWatchLambdaFunction");
  // A function is named by name, name:qualifier, ARN, qualified or partial ARN: each change is tried with
  // another form.
  const forms = (name: string) => [
    name,
    `${name}:live`,
    functionArn(name),
    `${functionArn(name)}:live`,
    `${ACCOUNT}:function:${name}`,
  ];
  /** The same function of OTHER_STAGE: its name begins with this stage's. */
  const other = (name: string) => name.replace(`-${STAGE}-`, `-${OTHER_STAGE}-`);
  return [
    ...functions.flatMap((f, i) =>
      FUNCTION_CHANGES.map((change, j) =>
        cloudTrail("function-change", "lambda", change, OUTSIDER, {
          functionName: forms(f.functionName)[(i + j) % 5],
        }),
      ),
    ),
    ...functions.flatMap((f) =>
      forms(other(f.functionName)).map((functionName) =>
        cloudTrail(undefined, "lambda", "UpdateFunctionCode20150331v2", OUTSIDER, { functionName }),
      ),
    ),
    ...functions.map((f) =>
      cloudTrail(undefined, "iam", "PutRolePolicy", OUTSIDER, { roleName: other(f.roleName) }),
    ),
    cloudTrail(undefined, "lambda", "Invoke", OUTSIDER, {
      functionName: functionArn(other(token.functionName)),
    }),
    cloudTrail(undefined, "lambda", "UpdateFunctionCode20150331v2", OUTSIDER, {
      functionName: "payroll-svc",
    }),
    cloudTrail(undefined, "lambda", "GetFunction20150331v2", OUTSIDER, { functionName: token.functionName }),
    ...functions.flatMap((f, i) =>
      ROLE_CHANGES.map((change) =>
        // IAM role names ignore case: so does the rule.
        cloudTrail("role-change", "iam", change, OUTSIDER, {
          roleName: i === 0 ? f.roleName.toUpperCase() : f.roleName,
        }),
      ),
    ),
    cloudTrail(undefined, "iam", "PutRolePolicy", OUTSIDER, { roleName: "payroll-svc" }),
    cloudTrail(undefined, "iam", "GetRole", OUTSIDER, { roleName: token.roleName }),
    cloudTrail("secret-read", "secretsmanager", "GetSecretValue", OUTSIDER, { secretId: SECRET }),
    // The token role's credentials used outside its function: another session name.
    cloudTrail(
      "secret-read",
      "secretsmanager",
      "GetSecretValue",
      `arn:aws:sts::${ACCOUNT}:assumed-role/${token.roleName}/copied`,
      {
        secretId: SECRET,
      },
    ),
    cloudTrail(undefined, "secretsmanager", "GetSecretValue", sessionOf(token), { secretId: SECRET }),
    cloudTrail(undefined, "secretsmanager", "GetSecretValue", sessionOf(keyWatch), { secretId: SECRET }),
    cloudTrail(undefined, "secretsmanager", "GetSecretValue", OUTSIDER, { secretId: `${SECRET}x` }),
    cloudTrail(undefined, "secretsmanager", "DescribeSecret", OUTSIDER, { secretId: SECRET }),
    cloudTrail("pid-key-mac", "kms", "GenerateMac", OUTSIDER, { keyId: PID_KEY }),
    cloudTrail(undefined, "kms", "GenerateMac", sessionOf(token), { keyId: PID_KEY }),
    cloudTrail(undefined, "kms", "GenerateMac", sessionOf(jwks), { keyId: PID_KEY }),
    cloudTrail(undefined, "kms", "GenerateMac", OUTSIDER, { keyId: PID_KEY.replace("5555", "6666") }),
    cloudTrail(undefined, "kms", "Sign", OUTSIDER, { keyId: PID_KEY }),
    cloudTrail("direct-invoke", "lambda", "Invoke", OUTSIDER, {
      functionName: functionArn(token.functionName),
    }),
    cloudTrail("direct-invoke", "lambda", "Invoke", OUTSIDER, { functionName: token.functionName }),
    apiGatewayInvoke(functionArn(token.functionName)),
    cloudTrail(undefined, "lambda", "Invoke", OUTSIDER, { functionName: functionArn(jwks.functionName) }),
  ];
}

describe("the perimeter alarms (infra/perimeter-alarms.yml) in moto's EventBridge", () => {
  const events = new EventBridgeClient({});
  const sqs = new SQSClient({});
  const BUS = "perimeter-check";
  /** Rule name suffix -> the queue its copy on BUS delivers to. */
  const queues = new Map<string, string>();
  let rules: { name: string; suffix: string }[] = [];

  beforeAll(async () => {
    const stack = await deployTemplate(motoText("perimeter-alarms.yml"), "perimeter-rules", {
      ServiceStage: STAGE,
      ServiceRegion: REGION,
      AlarmTopicArn: TOPIC,
      Watch: "all",
      SecretArns: SECRET,
      PidPseudonymKeyArn: PID_KEY,
      LambdaDataEvents: "true",
    });
    expect(stack.status).toBe("CREATE_COMPLETE");
    const prefix = `maskinporten-broker-${STAGE}-`;
    // Only this stack's rules: other stacks in the same moto (the service's schedules) share the prefix.
    const own = new Set(
      stack.resources.filter((r) => r.ResourceType === "AWS::Events::Rule").map((r) => r.PhysicalResourceId),
    );
    const listed = (await events.send(new ListRulesCommand({ NamePrefix: prefix }))).Rules ?? [];
    rules = listed
      .filter((r) => own.has(r.Name))
      .map((r) => ({
        name: r.Name ?? "",
        suffix: (r.Name ?? "").slice(prefix.length).replace(`${REGION}-`, ""),
      }));
    await events.send(new CreateEventBusCommand({ Name: BUS }));
    for (const rule of rules) {
      const pattern = (await events.send(new DescribeRuleCommand({ Name: rule.name }))).EventPattern;
      const url =
        (await sqs.send(new CreateQueueCommand({ QueueName: `perimeter-${rule.suffix}` }))).QueueUrl ?? "";
      const attributes = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
      );
      await events.send(new PutRuleCommand({ Name: rule.name, EventBusName: BUS, EventPattern: pattern }));
      await events.send(
        new PutTargetsCommand({
          Rule: rule.name,
          EventBusName: BUS,
          Targets: [{ Id: "queue", Arn: attributes.Attributes?.QueueArn }],
        }),
      );
      queues.set(rule.suffix, url);
    }
  }, 60_000);

  it("has one rule with the alarm topic as target for each kind of change", async () => {
    expect(rules.map((r) => r.suffix).sort()).toEqual([
      "direct-invoke",
      "function-change",
      "pid-key-mac",
      "role-change",
      "secret-read",
    ]);
    for (const rule of rules) {
      const targets = (await events.send(new ListTargetsByRuleCommand({ Rule: rule.name }))).Targets ?? [];
      expect(
        targets.map((t) => t.Arn),
        rule.name,
      ).toEqual([TOPIC]);
    }
  });

  it("each rule matches its sample events and none of the others (other functions, events, API Gateway's invoke)", async () => {
    const all = samples();
    for (let i = 0; i < all.length; i += 10) {
      const answer = await events.send(
        new PutEventsCommand({
          Entries: all.slice(i, i + 10).map((s) => ({
            EventBusName: BUS,
            Source: s.source,
            DetailType: "AWS API Call via CloudTrail",
            Detail: JSON.stringify(s.detail),
          })),
        }),
      );
      expect(answer.FailedEntryCount).toBe(0);
    }
    for (const [suffix, url] of queues) {
      const received: string[] = [];
      for (;;) {
        const batch = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        const messages = batch.Messages ?? [];
        if (messages.length === 0) break;
        for (const m of messages)
          received.push((JSON.parse(m.Body ?? "{}") as { detail: { eventID: string } }).detail.eventID);
      }
      const expected = all.filter((s) => s.rule === suffix).map((s) => s.id);
      expect(expected.length, suffix).toBeGreaterThan(0);
      expect(received.sort(), suffix).toEqual(expected.sort());
    }
  }, 120_000);
});
