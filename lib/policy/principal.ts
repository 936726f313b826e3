// The caller's IAM principal as the policy sees it: assumed-role session ARNs become their role ARN, the session kept aside.
import { type Arn, assumedRole, formatArn, parseArn, withoutRolePath } from "./arn.ts";

export interface Principal {
  /** What the policy matches: an IAM role ARN without path (`arn:<partition>:iam::<acct>:role/<name>`), or the ARN as given. */
  readonly arn: string;
  /** The STS session name of an assumed-role caller; for the audit record only. */
  readonly session?: string;
  /** The fields of `arn`; undefined when it is no ARN (then no rule matches it). */
  readonly fields?: Arn;
}

/**
 * `arn:aws:sts::<acct>:assumed-role/<name>/<session>` -> `arn:aws:iam::<acct>:role/<name>`, and a role ARN with
 * a path -> the same without it (role names are unique per account); anything else as given.
 */
export function normalisePrincipal(userArn: string): Principal {
  const parsed = parseArn(userArn);
  if (parsed === undefined) return { arn: userArn };
  const assumed = assumedRole(parsed);
  if (assumed !== undefined)
    return { arn: formatArn(assumed.role), session: assumed.session, fields: assumed.role };
  const fields = withoutRolePath(parsed);
  return { arn: fields === parsed ? userArn : formatArn(fields), fields };
}
