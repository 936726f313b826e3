// The caller's IAM principal as the policy sees it: assumed-role session ARNs become their role ARN, the session kept aside.

export interface Principal {
  /** What the policy matches: an IAM role ARN without path (`arn:<partition>:iam::<acct>:role/<name>`), or the ARN as given. */
  arn: string;
  /** The STS session name of an assumed-role caller; for the audit record only. */
  session?: string;
}

const ASSUMED_ROLE = /^arn:([a-z0-9-]+):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;
const IAM_ROLE = /^arn:([a-z0-9-]+):iam::(\d{12}|\*):role\/(.+)$/;

/**
 * `arn:aws:sts::<acct>:assumed-role/<name>/<session>` -> `arn:aws:iam::<acct>:role/<name>`.
 * STS ARNs carry no role path, so role ARNs are compared without it (role names are unique per account).
 */
export function normalisePrincipal(userArn: string): Principal {
  const assumed = ASSUMED_ROLE.exec(userArn);
  if (assumed !== null) {
    const [, partition, account, name, session] = assumed;
    return { arn: `arn:${partition}:iam::${account}:role/${name}`, session: session ?? "" };
  }
  return { arn: stripRolePath(userArn) };
}

/** `arn:aws:iam::<acct>:role/<path>/<name>` -> `arn:aws:iam::<acct>:role/<name>`; anything else unchanged. */
export function stripRolePath(arn: string): string {
  const role = IAM_ROLE.exec(arn);
  if (role === null) return arn;
  const [, partition, account, pathAndName] = role;
  const name = pathAndName?.slice(pathAndName.lastIndexOf("/") + 1) ?? "";
  return `arn:${partition}:iam::${account}:role/${name}`;
}

/** True for a role ARN (or pattern) written with a path, e.g. `arn:aws:iam::<acct>:role/service/payroll`. */
export function hasRolePath(arn: string): boolean {
  return (IAM_ROLE.exec(arn)?.[3] ?? "").includes("/");
}
