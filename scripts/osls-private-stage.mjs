// osls plugin: puts the API stage, its throttling and its access log into the CloudFormation template,
// admits only the named callers in the API's resource policy, grants each function role exactly the
// key access it is configured for, and refuses `deploy` while serverless.yml placeholders are still in
// the compiled template or no caller is named.
//
// osls applies `provider.logs.restApi` with SDK calls after the stack update, invisible in the
// template and without any throttling option; a reviewer (and test/deploy) should see both here.

import { functionArnOf, perimeterStatement } from "./osls-key-perimeter.mjs";

const STAGE_ID = "ApiGatewayStage";
const LOG_GROUP_ID = "ApiGatewayAccessLogGroup";

/**
 * One JSON object per request. `$context.error.messageString` is API Gateway's error message already
 * quoted and escaped (`"Forbidden"`), so it goes in without quotes of our own: a message containing `"`
 * can never break the line. Every other value is an id, number or ARN API Gateway writes without quotes.
 */
const ERROR_PLACEHOLDER = "@@messageString@@";
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  extendedRequestId: "$context.extendedRequestId",
  requestTime: "$context.requestTime",
  httpMethod: "$context.httpMethod",
  resourcePath: "$context.resourcePath",
  status: "$context.status",
  responseLength: "$context.responseLength",
  integrationLatency: "$context.integrationLatency",
  sourceIp: "$context.identity.sourceIp",
  vpceId: "$context.identity.vpceId",
  caller: "$context.identity.caller",
  userArn: "$context.identity.userArn",
  accountId: "$context.identity.accountId",
  error: ERROR_PLACEHOLDER,
}).replace(`"${ERROR_PLACEHOLDER}"`, "$context.error.messageString");

const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[A-Za-z0-9-]+$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const ORG_ID = /^o-[a-z0-9]{10,32}$/;
// aws:PrincipalArn is the IAM role or user ARN (for a role session: the role's, never `assumed-role/...`).
const PRINCIPAL_ARN_PATTERN =
  /^arn:aws[a-z-]*:iam::([0-9]{12}|[0-9*?]{1,12}):(root|(role|user)\/[\x21-\x7e]+)$/;

/** What each kind of access grants, per key source. */
const KEY_ACCESS = {
  sign: { kms: ["kms:Sign", "kms:GetPublicKey"], secretsmanager: ["secretsmanager:GetSecretValue"] },
  publicKey: { kms: ["kms:GetPublicKey"], secretsmanager: ["secretsmanager:GetSecretValue"] },
};
/** The pid pseudonym key (PID_PSEUDONYM_KEY): an HMAC computed in KMS, or a secret read once. */
const PSEUDONYM_ACCESS = { kms: ["kms:GenerateMac"], secretsmanager: ["secretsmanager:GetSecretValue"] };

const list = (value) =>
  String(value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");

/** `kms:<key ARN>` / `secretsmanager:<secret ARN>` refs, comma-separated, grouped by source. */
export function parseSigningKeys(value) {
  const bySource = { kms: [], secretsmanager: [] };
  for (const ref of list(value)) {
    const colon = ref.indexOf(":");
    const source = ref.slice(0, colon);
    const arn = ref.slice(colon + 1);
    if (source === "kms" && KMS_KEY_ARN.test(arn)) bySource.kms.push(arn);
    else if (source === "secretsmanager" && SECRET_ARN.test(arn)) bySource.secretsmanager.push(arn);
    else {
      throw new Error(
        `osls-private-stage: signing key "${ref}" is neither kms:<key ARN> (an alias does not work in IAM) ` +
          "nor secretsmanager:<full secret ARN>",
      );
    }
  }
  if (bySource.kms.length + bySource.secretsmanager.length === 0) {
    throw new Error("osls-private-stage: no signing key configured (custom.privateStage.signingKeys)");
  }
  return bySource;
}

/** `kms:<HMAC key ARN>` or `secretsmanager:<secret ARN>`, grouped by source; `undefined` when empty (no pid rules). */
export function parsePseudonymKey(value) {
  const ref = String(value ?? "").trim();
  if (ref === "") return undefined;
  const colon = ref.indexOf(":");
  const source = ref.slice(0, colon);
  const arn = ref.slice(colon + 1);
  if (source === "kms" && KMS_KEY_ARN.test(arn)) return { kms: [arn], secretsmanager: [] };
  if (source === "secretsmanager" && SECRET_ARN.test(arn)) return { kms: [], secretsmanager: [arn] };
  throw new Error(
    `osls-private-stage: pid pseudonym key "${ref}" is neither kms:<HMAC key ARN> nor secretsmanager:<full secret ARN>`,
  );
}

/** The separate admin client's key (`kms:<key ARN>` or `secretsmanager:<secret ARN>`); `undefined` when empty. */
export function parseAdminSigningKey(value) {
  return String(value ?? "").trim() === "" ? undefined : parseSigningKeys(value);
}

/** The resource policy conditions that name the callers; `undefined` when none is named. */
export function callerConditions(callers = {}) {
  const orgIds = list(callers.orgId);
  const arns = list(callers.principalArns);
  for (const orgId of orgIds) {
    if (!ORG_ID.test(orgId))
      throw new Error(`osls-private-stage: callerOrgId "${orgId}" is not an organisation id (o-...)`);
  }
  if (orgIds.length > 1) throw new Error("osls-private-stage: callerOrgId takes one organisation id");
  for (const arn of arns) {
    if (!PRINCIPAL_ARN_PATTERN.test(arn)) {
      throw new Error(
        `osls-private-stage: callerPrincipalArns entry "${arn}" is not an IAM principal ARN pattern ` +
          "(arn:aws:iam::<account or *>:role/<name>, user/<name> or root; a role session is matched by its role ARN)",
      );
    }
  }
  if (orgIds.length === 0 && arns.length === 0) return undefined;
  return {
    ...(orgIds.length === 0 ? {} : { StringEquals: { "aws:PrincipalOrgID": orgIds[0] } }),
    ...(arns.length === 0 ? {} : { ArnLike: { "aws:PrincipalArn": arns } }),
  };
}

export default class PrivateStagePlugin {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      "after:package:compileEvents": () => {
        this.compileStage();
        this.nameCallers();
        this.requireOwnRoles();
      },
      // The roles are in serverless.yml `resources:`, merged into the template only at this step.
      "after:aws:package:finalize:mergeCustomProviderResources": () => this.grantKeyAccess(),
      "before:deploy:deploy": () => this.refusePlaceholders(),
    };
  }

  get settings() {
    return this.serverless.service.custom?.privateStage ?? {};
  }

  compileStage() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const resources = template.Resources;
    const deploymentId = Object.keys(resources).find(
      (id) => resources[id].Type === "AWS::ApiGateway::Deployment",
    );
    if (deploymentId === undefined) throw new Error("osls-private-stage: no API Gateway deployment to stage");
    const deployment = resources[deploymentId];
    const stageName = deployment.Properties.StageName;
    delete deployment.Properties.StageName;
    const { rateLimit, burstLimit } = this.settings.throttle ?? {};
    resources[LOG_GROUP_ID] = {
      Type: "AWS::Logs::LogGroup",
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: {
        LogGroupName: `/aws/api-gateway/${this.serverless.service.service}-${stageName}`,
        RetentionInDays: Number(this.settings.logRetentionInDays ?? 365),
      },
    };
    resources[STAGE_ID] = {
      Type: "AWS::ApiGateway::Stage",
      Properties: {
        RestApiId: deployment.Properties.RestApiId,
        DeploymentId: { Ref: deploymentId },
        StageName: stageName,
        AccessLogSetting: {
          DestinationArn: { "Fn::GetAtt": [LOG_GROUP_ID, "Arn"] },
          Format: ACCESS_LOG_FORMAT,
        },
        MethodSettings: [
          {
            HttpMethod: "*",
            ResourcePath: "/*",
            ThrottlingRateLimit: Number(rateLimit ?? 50),
            ThrottlingBurstLimit: Number(burstLimit ?? 100),
            MetricsEnabled: true,
            DataTraceEnabled: false,
            LoggingLevel: "OFF",
          },
        ],
      },
    };
  }

  /**
   * Adds the named callers to the resource policy's Allow (which keeps its aws:SourceVpce condition).
   * With none named the Allow goes: the API admits nobody, and `deploy` refuses (refusePlaceholders).
   */
  nameCallers() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const apiId = Object.keys(resources).find((id) => resources[id].Type === "AWS::ApiGateway::RestApi");
    const policy = resources[apiId]?.Properties?.Policy;
    if (policy === undefined) throw new Error("osls-private-stage: the REST API has no resource policy");
    const conditions = callerConditions(this.settings.callers);
    const isAllow = (statement) => statement.Effect === "Allow";
    if (policy.Statement.filter(isAllow).length !== 1) {
      throw new Error("osls-private-stage: expected exactly one Allow in provider.apiGateway.resourcePolicy");
    }
    if (conditions === undefined) {
      policy.Statement = policy.Statement.filter((statement) => !isAllow(statement));
      return;
    }
    const allow = policy.Statement.find(isAllow);
    const condition = { ...(allow.Condition ?? {}) };
    for (const [operator, keys] of Object.entries(conditions)) {
      condition[operator] = { ...(condition[operator] ?? {}), ...keys };
    }
    allow.Condition = condition;
  }

  /**
   * Appends the key statements of custom.privateStage.keyAccess (and the pid pseudonym key) to each named role's
   * first policy, then to each of those roles the Deny that keeps its key use inside its own function.
   */
  grantKeyAccess() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const keys = parseSigningKeys(this.settings.signingKeys);
    const adminKey = parseAdminSigningKey(this.settings.adminSigningKey);
    const granted = new Set();
    const grant = (roleId, what, actionsBySource, keysBySource) => {
      const role = resources[roleId];
      if (role?.Type !== "AWS::IAM::Role")
        throw new Error(`osls-private-stage: no role ${roleId} to grant ${what} to`);
      for (const source of ["kms", "secretsmanager"]) {
        if (keysBySource[source].length === 0) continue;
        role.Properties.Policies[0].PolicyDocument.Statement.push({
          Effect: "Allow",
          Action: actionsBySource[source],
          Resource: keysBySource[source],
        });
      }
      granted.add(roleId);
    };
    for (const [roleId, access] of Object.entries(this.settings.keyAccess ?? {})) {
      if (access === "admin") {
        // The key watch: with a separate admin client it signs only with that client's key and reads the
        // serving keys' public halves (to tell which registered key is theirs); without one, it signs with them.
        if (adminKey === undefined) grant(roleId, "key access", KEY_ACCESS.sign, keys);
        else {
          grant(roleId, "key access", KEY_ACCESS.sign, adminKey);
          grant(roleId, "key access", KEY_ACCESS.publicKey, keys);
        }
        continue;
      }
      const actions = KEY_ACCESS[access];
      if (actions === undefined)
        throw new Error(`osls-private-stage: key access "${access}" is not sign, publicKey or admin`);
      grant(roleId, "key access", actions, keys);
    }
    const pseudonymKey = parsePseudonymKey(this.settings.pidPseudonymKey);
    // One role or several: every function that builds the broker checks the key at cold start.
    if (pseudonymKey !== undefined) {
      for (const roleId of [this.settings.pidPseudonymKeyRole].flat()) {
        grant(roleId, "the pid pseudonym key", PSEUDONYM_ACCESS, pseudonymKey);
      }
    }
    for (const roleId of granted) {
      resources[roleId].Properties.Policies[0].PolicyDocument.Statement.push(
        perimeterStatement(functionArnOf(resources, roleId)),
      );
    }
  }

  /** Every function runs with a role of its own: never the shared role osls creates by default. */
  requireOwnRoles() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const naming = this.serverless.getProvider("aws").naming;
    if (resources[naming.getRoleLogicalId()] !== undefined) {
      throw new Error("osls-private-stage: every function needs its own `role`; osls generated a shared one");
    }
    const service = this.serverless.service;
    const roles = service.getAllFunctions().map((name) => String(service.getFunction(name).role));
    if (new Set(roles).size !== roles.length) {
      throw new Error(`osls-private-stage: two functions share a role (${roles.join(", ")})`);
    }
    // osls also lists the role in DependsOn, which the function's `Role: Fn::GetAtt` already implies.
    for (const name of service.getAllFunctions()) {
      const fn = resources[naming.getLambdaLogicalId(name)];
      if (Array.isArray(fn?.DependsOn))
        fn.DependsOn = fn.DependsOn.filter((id) => id !== service.getFunction(name).role);
    }
  }

  /**
   * Every reason not to deploy, at once, each naming the parameter to set: no caller named, or a parameter
   * still at its placeholder (`refuseDeployWith` maps each parameter to its placeholder value).
   */
  refusePlaceholders() {
    const problems = [];
    if (callerConditions(this.settings.callers) === undefined) {
      problems.push(
        "callerOrgId / callerPrincipalArns: name at least one caller, or the API admits nobody (docs/deployment.md, Named callers)",
      );
    }
    let compiled = JSON.stringify(this.serverless.service.provider.compiledCloudFormationTemplate);
    // Longest first, each found one taken out: one placeholder may contain another (the key ARN holds the
    // client id's zeros), and only what is left of the shorter one counts.
    const placeholders = Object.entries(this.settings.refuseDeployWith ?? {}).sort(
      ([, a], [, b]) => String(b).length - String(a).length,
    );
    const left = [];
    for (const [param, value] of placeholders) {
      if (!compiled.includes(String(value))) continue;
      left.push(param);
      compiled = compiled.split(String(value)).join("");
    }
    for (const param of left.sort()) problems.push(`${param}: still the placeholder of serverless.yml`);
    if (problems.length > 0) {
      throw new this.serverless.classes.Error(
        `Refusing to deploy:\n  ${problems.join("\n  ")}\n` +
          "Set them per stage in serverless.yml params or with --param (docs/deployment.md, Parameters).",
      );
    }
  }
}
