// The osls plugin's rules that need no packaging: signing key refs, named callers, key grants, the deploy refusal.
import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import PrivateStagePlugin, {
  callerConditions,
  parsePseudonymKey,
  parseSigningKeys,
} from "../../scripts/osls-private-stage.mjs";
import type { Callers, PrivateStageSettings, Resources } from "../../scripts/private-stage/types.ts";
import { copyService, REPO_ROOT } from "./package-service.ts";

const KEY_A = "arn:aws:kms:eu-north-1:111122223333:key/11111111-1111-1111-1111-111111111111";
const KEY_B = "arn:aws:kms:eu-north-1:111122223333:key/mrk-22222222222222222222222222222222";
const SECRET = "arn:aws:secretsmanager:eu-north-1:111122223333:secret:broker/vat-key-AbCdEf";

interface Role {
  Type: string;
  Properties: { Policies: { PolicyDocument: { Statement: unknown[] } }[] };
}

const role = (): Role => ({
  Type: "AWS::IAM::Role",
  Properties: { Policies: [{ PolicyDocument: { Statement: [] } }] },
});

/** The function the plugin binds role `id`'s key use to (one function per role, named `fn-<id>`). */
const functionOf = (id: string) => ({
  Type: "AWS::Lambda::Function",
  Properties: { FunctionName: `fn-${id}`, Role: { "Fn::GetAtt": [id, "Arn"] } },
});

/** The Deny that keeps role `id`'s key use inside its own function. */
const perimeter = (id: string) => ({
  Sid: "KeysOnlyFromOwnFunction",
  Effect: "Deny",
  Action: ["kms:Sign", "kms:GenerateMac", "secretsmanager:GetSecretValue"],
  Resource: "*",
  Condition: {
    ArnNotEquals: {
      "lambda:SourceFunctionArn": {
        "Fn::Sub": `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:fn-${id}`,
      },
    },
  },
});

/** The plugin over `resources`, each role in it run by a function of its own. */
function plugin(settings: PrivateStageSettings, resources: Record<string, unknown> = {}) {
  const functions = Object.entries(resources)
    .filter(([, resource]) => (resource as { Type?: string }).Type === "AWS::IAM::Role")
    .map(([id]) => [`${id}Function`, functionOf(id)]);
  return new PrivateStagePlugin({
    service: {
      custom: { privateStage: settings },
      provider: {
        compiledCloudFormationTemplate: {
          Resources: { ...resources, ...Object.fromEntries(functions) } as Resources,
        },
      },
    },
    classes: { Error },
  });
}

describe("signing keys", () => {
  it("groups kms:<key ARN> and secretsmanager:<secret ARN> refs by source, in order", () => {
    expect(parseSigningKeys(` kms:${KEY_A}, secretsmanager:${SECRET},kms:${KEY_B}`)).toEqual({
      kms: [KEY_A, KEY_B],
      secretsmanager: [SECRET],
    });
  });

  it("refuses an alias, a file key, a bare ARN or none at all", () => {
    expect(() => parseSigningKeys("kms:arn:aws:kms:eu-north-1:111122223333:alias/broker")).toThrow(/alias/);
    expect(() => parseSigningKeys("file:/keys/broker.pem")).toThrow(/neither kms/);
    expect(() => parseSigningKeys(KEY_A)).toThrow(/neither kms/);
    expect(() => parseSigningKeys(" , ")).toThrow(/no signing key/);
  });

  it("grants the token role sign access and the jwks role public-key access on exactly those keys", () => {
    const resources = { TokenRole: role(), JwksRole: role(), HealthRole: role() };
    plugin(
      {
        signingKeys: `kms:${KEY_A},kms:${KEY_B},secretsmanager:${SECRET}`,
        keyAccess: { TokenRole: "sign", JwksRole: "publicKey" },
      },
      resources,
    ).grantKeyAccess();
    const statements = (id: keyof typeof resources) =>
      resources[id].Properties.Policies[0]?.PolicyDocument.Statement;
    expect(statements("TokenRole")).toEqual([
      { Effect: "Allow", Action: ["kms:Sign", "kms:GetPublicKey"], Resource: [KEY_A, KEY_B] },
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [SECRET] },
      perimeter("TokenRole"),
    ]);
    expect(statements("JwksRole")).toEqual([
      { Effect: "Allow", Action: ["kms:GetPublicKey"], Resource: [KEY_A, KEY_B] },
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [SECRET] },
      perimeter("JwksRole"),
    ]);
    expect(statements("HealthRole")).toEqual([]);
  });

  it("the key watch (admin) signs with the admin client's key only and reads the serving keys' public halves", () => {
    const ADMIN_KEY = "arn:aws:kms:eu-north-1:111122223333:key/44444444-4444-4444-4444-444444444444";
    const statements = (adminSigningKey: string) => {
      const resources = { KeyWatchRole: role() };
      plugin(
        { signingKeys: `kms:${KEY_A}`, adminSigningKey, keyAccess: { KeyWatchRole: "admin" } },
        resources,
      ).grantKeyAccess();
      return resources.KeyWatchRole.Properties.Policies[0]?.PolicyDocument.Statement;
    };
    expect(statements(`kms:${ADMIN_KEY}`)).toEqual([
      { Effect: "Allow", Action: ["kms:Sign", "kms:GetPublicKey"], Resource: [ADMIN_KEY] },
      { Effect: "Allow", Action: ["kms:GetPublicKey"], Resource: [KEY_A] },
      perimeter("KeyWatchRole"),
    ]);
    // No separate admin client: each client's own key mints its admin token.
    expect(statements("")).toEqual([
      { Effect: "Allow", Action: ["kms:Sign", "kms:GetPublicKey"], Resource: [KEY_A] },
      perimeter("KeyWatchRole"),
    ]);
  });

  it("refuses key access for a role no function runs with, or that two functions share", () => {
    const alone = new PrivateStagePlugin({
      service: {
        custom: { privateStage: { signingKeys: `kms:${KEY_A}`, keyAccess: { TokenRole: "sign" } } },
        provider: { compiledCloudFormationTemplate: { Resources: { TokenRole: role() } } },
      },
      classes: { Error },
    });
    expect(() => alone.grantKeyAccess()).toThrow(
      /role TokenRole has key access, so exactly one named function/,
    );
    const shared = plugin(
      { signingKeys: `kms:${KEY_A}`, keyAccess: { TokenRole: "sign" } },
      { TokenRole: role(), Other: functionOf("TokenRole") },
    );
    expect(() => shared.grantKeyAccess()).toThrow(/found 2/);
  });

  it("refuses key access for a role that is not in the template, or an unknown kind of access", () => {
    expect(() =>
      plugin({ signingKeys: `kms:${KEY_A}`, keyAccess: { TokenRole: "sign" } }).grantKeyAccess(),
    ).toThrow(/no role TokenRole/);
    expect(() =>
      plugin(
        { signingKeys: `kms:${KEY_A}`, keyAccess: { TokenRole: "owner" } },
        { TokenRole: role() },
      ).grantKeyAccess(),
    ).toThrow(/not sign, publicKey or admin/);
  });
});

describe("the pid pseudonym key", () => {
  const HMAC_KEY = "arn:aws:kms:eu-north-1:111122223333:key/33333333-3333-3333-3333-333333333333";

  it("grants the token role kms:GenerateMac on the HMAC key (or GetSecretValue on the secret), nothing else", () => {
    for (const [ref, statement] of [
      [`kms:${HMAC_KEY}`, { Effect: "Allow", Action: ["kms:GenerateMac"], Resource: [HMAC_KEY] }],
      [
        `secretsmanager:${SECRET}`,
        { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [SECRET] },
      ],
    ] as const) {
      const resources = { TokenRole: role(), JwksRole: role() };
      plugin(
        {
          signingKeys: `kms:${KEY_A}`,
          keyAccess: { TokenRole: "sign" },
          pidPseudonymKey: ref,
          pidPseudonymKeyRole: "TokenRole",
        },
        resources,
      ).grantKeyAccess();
      expect(resources.TokenRole.Properties.Policies[0]?.PolicyDocument.Statement.slice(-2)).toEqual([
        statement,
        perimeter("TokenRole"),
      ]);
      expect(resources.JwksRole.Properties.Policies[0]?.PolicyDocument.Statement).toEqual([]);
    }
  });

  it("grants the token and jwks roles alike when both are named (both build the broker, which checks the key)", () => {
    const resources = { TokenRole: role(), JwksRole: role(), HealthRole: role(), KeyWatchRole: role() };
    plugin(
      {
        signingKeys: `kms:${KEY_A}`,
        keyAccess: {},
        pidPseudonymKey: `kms:${HMAC_KEY}`,
        pidPseudonymKeyRole: ["TokenRole", "JwksRole"],
      },
      resources,
    ).grantKeyAccess();
    const mac = { Effect: "Allow", Action: ["kms:GenerateMac"], Resource: [HMAC_KEY] };
    expect(resources.TokenRole.Properties.Policies[0]?.PolicyDocument.Statement).toEqual([
      mac,
      perimeter("TokenRole"),
    ]);
    expect(resources.JwksRole.Properties.Policies[0]?.PolicyDocument.Statement).toEqual([
      mac,
      perimeter("JwksRole"),
    ]);
    expect(resources.HealthRole.Properties.Policies[0]?.PolicyDocument.Statement).toEqual([]);
    expect(resources.KeyWatchRole.Properties.Policies[0]?.PolicyDocument.Statement).toEqual([]);
  });

  it("grants nothing when unset, and refuses an alias, a file key or a missing role", () => {
    expect(parsePseudonymKey("")).toBeUndefined();
    expect(parsePseudonymKey(undefined)).toBeUndefined();
    expect(() => parsePseudonymKey("kms:alias/pid")).toThrow(/pid pseudonym key/);
    expect(() => parsePseudonymKey("file:/pid.key")).toThrow(/pid pseudonym key/);
    expect(() =>
      plugin(
        { signingKeys: `kms:${KEY_A}`, pidPseudonymKey: `kms:${HMAC_KEY}`, pidPseudonymKeyRole: "NoRole" },
        {},
      ).grantKeyAccess(),
    ).toThrow(/no role NoRole/);
  });
});

describe("named callers", () => {
  it("an organisation becomes aws:PrincipalOrgID", () => {
    expect(callerConditions({ orgId: "o-a1b2c3d4e5", principalArns: "" })).toEqual({
      StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" },
    });
  });

  it("principal ARN patterns (other accounts, wildcards) become aws:PrincipalArn", () => {
    expect(
      callerConditions({
        orgId: "",
        principalArns: "arn:aws:iam::*:role/payroll-*, arn:aws:iam::444455556666:role/team/vat-svc",
      }),
    ).toEqual({
      ArnLike: {
        "aws:PrincipalArn": ["arn:aws:iam::*:role/payroll-*", "arn:aws:iam::444455556666:role/team/vat-svc"],
      },
    });
  });

  it("neither named: no caller", () => {
    expect(callerConditions({ orgId: "", principalArns: "" })).toBeUndefined();
    expect(callerConditions()).toBeUndefined();
  });

  it("refuses a malformed organisation id and a role-session (assumed-role) ARN", () => {
    expect(() => callerConditions({ orgId: "111122223333" })).toThrow(/not an organisation id/);
    expect(() =>
      callerConditions({ principalArns: "arn:aws:sts::111122223333:assumed-role/payroll-svc/run-1" }),
    ).toThrow(/matched by its role ARN/);
    expect(() => callerConditions({ principalArns: "*" })).toThrow(/not an IAM principal ARN pattern/);
  });
});

/** The placeholder defaults of serverless.yml's params.default that the plugin compares against. */
const DEFAULTS = {
  vpcEndpointIds: "vpce-0123456789abcdef0",
  policyFile: "policy.example.json",
  maskinportenClientId: "00000000-0000-0000-0000-000000000000",
  signingKeyArn: "arn:aws:kms:eu-north-1:111122223333:key/00000000-0000-0000-0000-000000000000",
};
const SET = {
  vpcEndpointIds: "vpce-0a1b2c3d4e5f67890",
  policyFile: "policy.json",
  maskinportenClientId: "3f2b8c4e-1d2a-4b7c-9e0f-5a6b7c8d9e0f",
  signingKeyArn: KEY_A,
};

/** The plugin as osls builds it for `sls <commands>`, serverless.yml's params.default being `defaults`. */
function commandPlugin(
  commands: string[],
  settings: PrivateStageSettings,
  defaults: Record<string, unknown> = DEFAULTS,
) {
  return new PrivateStagePlugin({
    service: {
      provider: { stage: "prod", compiledCloudFormationTemplate: { Resources: {} } },
      custom: { privateStage: settings },
    },
    configurationInput: { params: { default: defaults } },
    processedInput: { commands, options: {} },
    classes: { Error },
  });
}

/** The settings serverless.yml passes for `params` (one client). */
const settingsOf = (params: typeof SET, callers: Callers): PrivateStageSettings => ({
  signingKeys: `kms:${params.signingKeyArn}`,
  callers,
  placeholders: [
    { vpcEndpointIds: params.vpcEndpointIds, policyFile: params.policyFile },
    { maskinportenClientId: params.maskinportenClientId, signingKeyArn: params.signingKeyArn },
  ],
});

/** What the plugin's `initialize` hook throws for `sls <commands>`, or undefined. */
function refusal(
  commands: string[],
  settings: PrivateStageSettings,
  defaults?: Record<string, unknown>,
): string | undefined {
  try {
    commandPlugin(commands, settings, defaults).hooks.initialize?.();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe("sls deploy", () => {
  it("is refused with every problem at once, each naming its parameter, never a placeholder value", () => {
    const message = refusal(["deploy"], settingsOf(DEFAULTS, { orgId: "", principalArns: "" }));
    expect(message?.split("\n")).toEqual([
      "Refusing to deploy stage prod (docs/deployment.md, Parameters):",
      "  - no caller is named: set callerOrgId and/or callerPrincipalArns (the API would admit nobody)",
      "  - vpcEndpointIds still has its placeholder default: set it in the stage's params or with --param",
      "  - policyFile still has its placeholder default: set it in the stage's params or with --param",
      "  - maskinportenClientId still has its placeholder default: set it in the stage's params or with --param",
      "  - signingKeyArn still has its placeholder default: set it in the stage's params or with --param",
    ]);
  });

  it("names malformed values beside the placeholders left, in the same refusal", () => {
    const settings = {
      ...settingsOf({ ...SET, vpcEndpointIds: DEFAULTS.vpcEndpointIds }, { orgId: "111122223333" }),
      signingKeys: "kms:alias/broker",
      pidPseudonymKey: "file:/pid.key",
    };
    const lines = refusal(["deploy"], settings)?.split("\n").slice(1);
    expect(lines).toEqual([
      expect.stringMatching(/^ {2}- callerOrgId "111122223333" is not an organisation id/),
      expect.stringMatching(/^ {2}- signing key .*"kms:alias\/broker" is neither kms:<key ARN> \(an alias/),
      expect.stringMatching(/^ {2}- pid pseudonym key \(pidPseudonymKey\) "file:\/pid.key" is neither/),
      expect.stringMatching(/^ {2}- vpcEndpointIds still has its placeholder default/),
    ]);
  });

  it("goes ahead with every placeholder replaced and a caller named (an organisation, or principal ARNs)", () => {
    expect(refusal(["deploy"], settingsOf(SET, { orgId: "o-a1b2c3d4e5" }))).toBeUndefined();
    expect(
      refusal(["deploy"], settingsOf(SET, { principalArns: "arn:aws:iam::111122223333:role/payroll-svc" })),
    ).toBeUndefined();
  });

  it("refuses `deploy function` too (it would push the placeholder environment), not `package` or `deploy list`", () => {
    const placeholders = settingsOf(DEFAULTS, {});
    expect(refusal(["deploy", "function"], placeholders)).toMatch(/^Refusing to deploy stage prod/);
    expect(refusal(["package"], placeholders)).toBeUndefined();
    expect(refusal(["deploy", "list"], placeholders)).toBeUndefined();
  });

  it("a placeholder that is no param of params.default is a mistake in serverless.yml, said as such", () => {
    expect(() =>
      commandPlugin(["deploy"], {
        ...settingsOf(SET, {}),
        placeholders: [{ vpcEndpointId: "x" }],
      }).hooks.initialize?.(),
    ).toThrow(/placeholder vpcEndpointId is no param of params.default/);
  });
});

describe("sls package", () => {
  it("names every malformed parameter at once, before it changes the template", () => {
    const packaging = commandPlugin(["package"], {
      ...settingsOf(SET, { orgId: "o-1", principalArns: "arn:aws:sts::111122223333:assumed-role/a/b" }),
      adminSigningKey: "kms:alias/admin",
    });
    expect(() => packaging.hooks["after:package:compileEvents"]?.()).toThrow(
      new RegExp(
        [
          "^Refusing to package with malformed parameters \\(docs/deployment.md, Parameters\\):",
          '  - callerOrgId "o-1" is not an organisation id',
          '  - callerPrincipalArns entry "arn:aws:sts::111122223333:assumed-role/a/b" is not an IAM principal',
          '  - admin signing key \\(keyAdminSigningKey\\) "kms:alias/admin" is neither',
        ].join(".*\n"),
      ),
    );
  });
});

/** `npx sls <args>` in a copy of the service, offline: its output, or its failure's. */
function sls(copy: ReturnType<typeof copyService>, args: string[]) {
  return promisify(execFile)(
    process.execPath,
    [join(copy.dir, "node_modules/osls/bin/serverless.js"), ...args],
    {
      cwd: copy.dir,
      env: { ...copy.env, SLS_TELEMETRY_DISABLED: "1" },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
}

const SERVERLESS_YML = readFileSync(join(REPO_ROOT, "serverless.yml"), "utf8");

/** serverless.yml with its commented `prod:` block under `params:` uncommented: `# ` taken off exactly its lines. */
function withProdBlock(yml: string): string {
  const lines = yml.split("\n");
  const start = lines.indexOf("  # prod:");
  let end = start + 1;
  while (lines[end]?.startsWith("  #   ")) end++;
  if (start < 0 || end - start < 2)
    throw new Error("serverless.yml has no commented prod: block under params:");
  return lines.map((line, i) => (i >= start && i < end ? `  ${line.slice(4)}` : line)).join("\n");
}

/** What osls resolves from `yml` for stage prod: the plugin's settings and params.default. */
async function resolvedStage(yml: string) {
  const copy = copyService();
  try {
    writeFileSync(join(copy.dir, "serverless.yml"), yml);
    const { stdout } = await sls(copy, ["print", "--stage", "prod", "--format", "json"]);
    const printed = JSON.parse(stdout) as {
      params: { default: Record<string, unknown>; prod?: Record<string, unknown> };
      custom: { privateStage: PrivateStageSettings };
    };
    return { params: printed.params, settings: printed.custom.privateStage };
  } finally {
    copy.remove();
  }
}

describe("serverless.yml's commented params.prod block", () => {
  // Left commented, the block changes nothing: "npx sls deploy, offline" below is refused by parameter.
  it("uncommented as shipped, passes the deploy check: it sets every placeholder param and names a caller", async () => {
    const { params, settings } = await resolvedStage(withProdBlock(SERVERLESS_YML));
    expect(Object.keys(params.prod ?? {})).toEqual(
      expect.arrayContaining([
        "vpcEndpointIds",
        "policyFile",
        "maskinportenClientId",
        "signingKeyArn",
        "callerOrgId",
      ]),
    );
    expect(refusal(["deploy"], settings, params.default)).toBeUndefined();
  }, 180_000);
});

describe("npx sls deploy, offline", () => {
  it("refuses before it packages or calls AWS, listing every problem by parameter", async () => {
    const copy = copyService();
    try {
      const run = sls(copy, ["deploy", "--stage", "prod"]);
      const failed = (await run.then(
        () => ({ stdout: "", stderr: "sls deploy succeeded" }),
        (error: { stdout: string; stderr: string }) => error,
      )) as { stdout: string; stderr: string };
      const output = `${failed.stdout}${failed.stderr}`;
      for (const param of [
        "callerOrgId",
        "vpcEndpointIds",
        "policyFile",
        "maskinportenClientId",
        "signingKeyArn",
      ]) {
        expect(output).toContain(param);
      }
      expect(output).toContain("Refusing to deploy stage prod");
      expect(output).not.toMatch(/00000000-0000|vpce-0123456789abcdef0|policy\.example\.json/);
      expect(existsSync(join(copy.dir, ".serverless"))).toBe(false);
    } finally {
      copy.remove();
    }
  }, 180_000);
});
