// The requestContext.identity API Gateway would report for a local principal ARN (a role is seen as its session).
import { createHash } from "node:crypto";
import type { CallerIdentity } from "./api-gateway-event.ts";

/** The caller identity plus the principal the local credentials file names. */
export interface LocalIdentity extends CallerIdentity {
  principalArn: string;
}

/** Session name of the role session a local role principal is presented as. */
export const LOCAL_SESSION_NAME = "local";

const NAME = "[\\w+=,.@-]+";
const ROLE = new RegExp(`^arn:aws:iam::(\\d{12}):role/(?:[^/]+/)*(${NAME})$`);
const USER = new RegExp(`^arn:aws:iam::(\\d{12}):user/(?:[^/]+/)*(${NAME})$`);
const ASSUMED_ROLE = new RegExp(`^arn:aws:sts::(\\d{12}):assumed-role/(${NAME})/(${NAME})$`);

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
  const role = ROLE.exec(principalArn);
  if (role?.[1] !== undefined && role[2] !== undefined) {
    return roleSession(accessKey, principalArn, role[1], role[2], LOCAL_SESSION_NAME);
  }
  const assumed = ASSUMED_ROLE.exec(principalArn);
  if (assumed?.[1] !== undefined && assumed[2] !== undefined && assumed[3] !== undefined) {
    return roleSession(accessKey, principalArn, assumed[1], assumed[2], assumed[3]);
  }
  const user = USER.exec(principalArn);
  if (user?.[1] !== undefined) {
    return {
      accessKey,
      principalArn,
      accountId: user[1],
      caller: uniqueId("AIDA", principalArn),
      userArn: principalArn,
    };
  }
  throw new Error(`Not an IAM role, IAM user or STS assumed-role ARN: ${principalArn}`);
}

/** True when `localIdentity` accepts the ARN; used to validate the credentials file. */
export function isPrincipalArn(value: string): boolean {
  return ROLE.test(value) || USER.test(value) || ASSUMED_ROLE.test(value);
}
