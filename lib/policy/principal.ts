// The caller's IAM principal as the policy sees it: assumed-role session ARNs become their role ARN, the session kept aside.
import { type Arn, assumedRole, formatArn, parseArn, withoutRolePath } from "./arn.ts";

/** A caller whose identity is an ARN: the policy matches its fields. */
export interface ArnPrincipal {
  readonly kind: "arn";
  /** What the policy matches: an IAM role ARN without path (`arn:<partition>:iam::<acct>:role/<name>`), or the ARN as given. */
  readonly arn: string;
  /** The fields of `arn`. */
  readonly fields: Arn;
  /** The STS session name of an assumed-role caller; for the audit record only. */
  readonly session?: string | undefined;
}

/** A caller identity that is no ARN: kept for the audit record, matched by no rule. */
export interface UnparsedPrincipal {
  readonly kind: "unparsed";
  readonly arn: string;
}

export type Principal = ArnPrincipal | UnparsedPrincipal;

/**
 * `arn:aws:sts::<acct>:assumed-role/<name>/<session>` -> `arn:aws:iam::<acct>:role/<name>`, and a role ARN with
 * a path -> the same without it (role names are unique per account); anything else as given.
 */
export function normalisePrincipal(userArn: string): Principal {
  const parsed = parseArn(userArn);
  if (parsed === undefined) return { kind: "unparsed", arn: userArn };
  const assumed = assumedRole(parsed);
  if (assumed !== undefined)
    return { kind: "arn", arn: formatArn(assumed.role), session: assumed.session, fields: assumed.role };
  const fields = withoutRolePath(parsed);
  return { kind: "arn", arn: fields === parsed ? userArn : formatArn(fields), fields };
}
