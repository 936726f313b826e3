// The API's resource policy: its one Allow admits only the named callers (organisation, principal ARN patterns).
// @ts-check
/** @import { Callers, Resources, Statement } from "./types.ts" */
import { list } from "./key-refs.mjs";

const ORG_ID = /^o-[a-z0-9]{10,32}$/;
// aws:PrincipalArn is the IAM role or user ARN (for a role session: the role's, never `assumed-role/...`).
const PRINCIPAL_ARN_PATTERN =
  /^arn:aws[a-z-]*:iam::([0-9]{12}|[0-9*?]{1,12}):(root|(role|user)\/[\x21-\x7e]+)$/;

/** What is wrong with callerOrgId and callerPrincipalArns, each naming the parameter. */
export function callerProblems(/** @type {Callers} */ callers = {}) {
  const orgIds = list(callers.orgId);
  const problems = orgIds
    .filter((orgId) => !ORG_ID.test(orgId))
    .map((orgId) => `callerOrgId "${orgId}" is not an organisation id (o-...)`);
  if (orgIds.length > 1) problems.push("callerOrgId takes one organisation id");
  for (const arn of list(callers.principalArns)) {
    if (PRINCIPAL_ARN_PATTERN.test(arn)) continue;
    problems.push(
      `callerPrincipalArns entry "${arn}" is not an IAM principal ARN pattern ` +
        "(arn:aws:iam::<account or *>:role/<name>, user/<name> or root; a role session is matched by its role ARN)",
    );
  }
  return problems;
}

/** True when neither callerOrgId nor callerPrincipalArns names anyone. */
export const noCallerNamed = (/** @type {Callers} */ callers = {}) =>
  list(callers.orgId).length === 0 && list(callers.principalArns).length === 0;

/**
 * The resource policy conditions that name the callers; `undefined` when none is named.
 * @param {Callers} [callers]
 * @returns {{ StringEquals?: Record<string, string>, ArnLike?: Record<string, string[]> } | undefined}
 */
export function callerConditions(callers = {}) {
  const problems = callerProblems(callers);
  if (problems.length > 0) throw new Error(`osls-private-stage: ${problems.join("; ")}`);
  if (noCallerNamed(callers)) return undefined;
  const [orgId] = list(callers.orgId);
  const arns = list(callers.principalArns);
  return {
    ...(orgId === undefined ? {} : { StringEquals: { "aws:PrincipalOrgID": orgId } }),
    ...(arns.length === 0 ? {} : { ArnLike: { "aws:PrincipalArn": arns } }),
  };
}

/**
 * Adds the named callers to the resource policy's Allow (which keeps its aws:SourceVpce condition). With none
 * named the Allow goes: the API admits nobody, and `sls deploy` refuses (refusals.mjs).
 * @param {Resources} resources
 * @param {Callers | undefined} callers
 */
export function nameCallers(resources, callers) {
  const api = Object.values(resources).find((resource) => resource.Type === "AWS::ApiGateway::RestApi");
  const policy = /** @type {{ Statement: Statement[] } | undefined} */ (api?.Properties?.Policy);
  if (policy === undefined) throw new Error("osls-private-stage: the REST API has no resource policy");
  const conditions = callerConditions(callers);
  /** @param {Statement} statement */
  const isAllow = (statement) => statement.Effect === "Allow";
  const allow = policy.Statement.filter(isAllow);
  if (allow.length !== 1 || allow[0] === undefined) {
    throw new Error("osls-private-stage: expected exactly one Allow in provider.apiGateway.resourcePolicy");
  }
  if (conditions === undefined) {
    policy.Statement = policy.Statement.filter((statement) => !isAllow(statement));
    return;
  }
  const condition = { ...(allow[0].Condition ?? {}) };
  for (const [operator, keys] of Object.entries(conditions)) {
    condition[operator] = { ...(condition[operator] ?? {}), ...keys };
  }
  allow[0].Condition = condition;
}
