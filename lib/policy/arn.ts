// IAM principal ARNs field by field: parsing, the policy's principal patterns (`*` within one field), normalisation.
import { globMatch } from "./glob.ts";

/** `arn:<partition>:<service>:<region>:<account>:<resourceType>/<resourceName>`. */
export interface Arn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly account: string;
  /** The resource before its first `/`: `role`, `user`, `assumed-role`, ... */
  readonly resourceType: string;
  /** The resource after its first `/`: the name with any path (`team/payroll`), or `<role>/<session>`. */
  readonly resourceName: string;
}

/** An AWS account id. */
export const ACCOUNT_ID = /^\d{12}$/;
/** The characters IAM allows in role, user and session names. */
export const IAM_NAME = /^[\w+=,.@-]+$/;

/** Printable ASCII without spaces: nothing an ARN may carry beyond these. */
const ARN_TEXT = /^[\x21-\x7e]+$/;

/**
 * The fields of an ARN whose resource is `<type>/<name>`, or undefined. IAM and STS principal names never
 * contain `:`, so an ARN with more than six `:`-separated fields is not a principal.
 */
export function parseArn(text: string): Arn | undefined {
  if (!ARN_TEXT.test(text)) return undefined;
  const fields = text.split(":");
  if (fields.length !== 6 || fields[0] !== "arn") return undefined;
  const [, partition = "", service = "", region = "", account = "", resource = ""] = fields;
  const slash = resource.indexOf("/");
  if (partition === "" || service === "" || slash <= 0 || slash === resource.length - 1) return undefined;
  return {
    partition,
    service,
    region,
    account,
    resourceType: resource.slice(0, slash),
    resourceName: resource.slice(slash + 1),
  };
}

export function formatArn(arn: Arn): string {
  return `arn:${arn.partition}:${arn.service}:${arn.region}:${arn.account}:${arn.resourceType}/${arn.resourceName}`;
}

/** True for an STS session ARN (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`). */
export function isAssumedRole(arn: Arn): boolean {
  return arn.service === "sts" && arn.resourceType === "assumed-role";
}

/** True for an IAM role ARN (or pattern). */
export function isRole(arn: Arn): boolean {
  return arn.service === "iam" && arn.resourceType === "role";
}

/**
 * An STS session's role (`arn:<p>:iam::<acct>:role/<role>`) and session name; undefined for any other ARN.
 * STS ARNs carry no role path, which is why roles are compared without theirs.
 */
export function assumedRole(arn: Arn): { role: Arn; session: string } | undefined {
  if (!isAssumedRole(arn)) return undefined;
  const slash = arn.resourceName.indexOf("/");
  if (slash <= 0 || slash === arn.resourceName.length - 1) return undefined;
  return {
    role: { ...arn, service: "iam", resourceType: "role", resourceName: arn.resourceName.slice(0, slash) },
    session: arn.resourceName.slice(slash + 1),
  };
}

/** A role written with a path (`role/service/payroll`): the path, else undefined. */
export function rolePath(arn: Arn): string | undefined {
  if (!isRole(arn)) return undefined;
  const last = arn.resourceName.lastIndexOf("/");
  return last < 0 ? undefined : arn.resourceName.slice(0, last);
}

/** A role ARN without its path (`role/<name>`); any other ARN unchanged. */
export function withoutRolePath(arn: Arn): Arn {
  if (rolePath(arn) === undefined) return arn;
  return { ...arn, resourceName: arn.resourceName.slice(arn.resourceName.lastIndexOf("/") + 1) };
}

/**
 * A principal pattern against a principal, field by field: `*` globs within the partition, service, region and
 * name (never across `:`), the account is the same 12 digits or `*`, the resource type is compared literally.
 */
export function arnMatches(pattern: Arn, value: Arn): boolean {
  return (
    pattern.resourceType === value.resourceType &&
    (pattern.account === "*" || pattern.account === value.account) &&
    globMatch(pattern.partition, value.partition) &&
    globMatch(pattern.service, value.service) &&
    globMatch(pattern.region, value.region) &&
    globMatch(pattern.resourceName, value.resourceName)
  );
}
