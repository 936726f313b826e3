// The requestContext.identity API Gateway would report for a local principal ARN (a role is seen as its session).
import { createHash } from "node:crypto";
import {
  ACCOUNT_ID,
  type Arn,
  assumedRole,
  formatArn,
  IAM_NAME,
  isAssumedRole,
  isRole,
  parseArn,
  withoutRolePath,
} from "../lib/policy/arn.ts";
import type { CallerIdentity } from "./api-gateway-event.ts";

/** The caller identity plus the principal the local credentials file names. */
export interface LocalIdentity extends CallerIdentity {
  principalArn: string;
}

/** Session name of the role session a local role principal is presented as. */
export const LOCAL_SESSION_NAME = "local";

/** A role, user or assumed-role ARN of the aws partition with IAM names throughout, or undefined. */
function localArn(text: string): Arn | undefined {
  const arn = parseArn(text);
  if (arn === undefined || arn.partition !== "aws" || arn.region !== "" || !ACCOUNT_ID.test(arn.account)) {
    return undefined;
  }
  const names = arn.resourceName.split("/");
  if (!names.every((name) => IAM_NAME.test(name))) return undefined;
  if (isAssumedRole(arn)) return names.length === 2 ? arn : undefined;
  return arn.service === "iam" && ["role", "user"].includes(arn.resourceType) ? arn : undefined;
}

/** A stable unique id like AWS's AROA…/AIDA… ids, derived from the ARN so it survives restarts. */
function uniqueId(prefix: string, arn: string): string {
  return prefix + createHash("sha256").update(arn).digest("hex").toUpperCase().slice(0, 17);
}

function roleSession(
  accessKey: string,
  principalArn: string,
  account: string,
  role: string,
  session: string,
) {
  return {
    accessKey,
    principalArn,
    accountId: account,
    caller: `${uniqueId("AROA", `arn:aws:iam::${account}:role/${role}`)}:${session}`,
    userArn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
  };
}

/**
 * API Gateway reports a role caller by its STS session (`assumed-role/<name>/<session>`) and a user by
 * its user ARN; the broker normalises the former back to the role, so local runs exercise that path.
 */
export function localIdentity(accessKey: string, principalArn: string): LocalIdentity {
  const arn = localArn(principalArn);
  if (arn === undefined)
    throw new Error(`Not an IAM role, IAM user or STS assumed-role ARN: ${principalArn}`);
  const assumed = assumedRole(arn);
  if (assumed !== undefined) {
    return roleSession(accessKey, principalArn, arn.account, assumed.role.resourceName, assumed.session);
  }
  if (isRole(arn)) {
    const role = withoutRolePath(arn).resourceName;
    return roleSession(accessKey, principalArn, arn.account, role, LOCAL_SESSION_NAME);
  }
  return {
    accessKey,
    principalArn,
    accountId: arn.account,
    caller: uniqueId("AIDA", principalArn),
    userArn: principalArn,
  };
}

/** True when `localIdentity` accepts the ARN; used to validate the credentials file. */
export function isPrincipalArn(value: string): boolean {
  return localArn(value) !== undefined;
}

/**
 * The principal a policy rule names for a local principal: a role session as its role, a role without its path
 * (as the policy writes roles), a user as it is.
 */
export function policyPrincipal(principalArn: string): string {
  const arn = localArn(principalArn);
  if (arn === undefined)
    throw new Error(`Not an IAM role, IAM user or STS assumed-role ARN: ${principalArn}`);
  return formatArn(withoutRolePath(assumedRole(arn)?.role ?? arn));
}
