// The policy document (docs/api.md, "Policy") as a zod schema; a bad document is refused naming the rule and the field.
import { z } from "zod";
import { ConfigError } from "../config/index.ts";
import { isOrgNumber, SCOPE_TOKEN } from "../request/index.ts";
import { hasRolePath } from "./principal.ts";

export interface PolicyRule {
  /** IAM ARN pattern; `*` globs. */
  readonly principal: string;
  /** Scope patterns; `*` globs. */
  readonly scopes: readonly string[];
  /** Organisation numbers or `*`; empty allows none. */
  readonly consumer_orgs: readonly string[];
  readonly systemuser_orgs: readonly string[];
  /** https URIs or `*`; empty allows none. */
  readonly resources: readonly string[];
}

export interface Policy {
  readonly rules: readonly PolicyRule[];
}

export class PolicyError extends ConfigError {
  override name = "PolicyError";
}

const ARN = /^arn:[a-z0-9*-]+:[a-z0-9*-]+::[0-9*]*:\S+$/;
const ASSUMED_ROLE = /^arn:[^:]+:sts::[^:]*:assumed-role\//;

const principal = z
  .string({ message: "expected an IAM ARN pattern" })
  .regex(ARN, "expected an IAM ARN such as arn:aws:iam::111122223333:role/payroll-* (globs with *)")
  .refine((p) => !ASSUMED_ROLE.test(p), {
    message:
      "write the role ARN arn:aws:iam::<account>:role/<name>; assumed-role sessions are normalised to it",
  })
  .refine((p) => !hasRolePath(p), {
    message:
      "write the role without its path (arn:aws:iam::<account>:role/<name>): API Gateway reports assumed-role callers without it",
  });

const scopePattern = z
  .string({ message: "expected a scope pattern" })
  .regex(SCOPE_TOKEN, "expected a scope-token (RFC 6749 characters, no spaces; * globs)");

const orgOrStar = z
  .string({ message: 'expected a 9-digit organisation number or "*"' })
  .refine((s) => s === "*" || isOrgNumber(s), 'expected a 9-digit organisation number or "*"');

const resourceOrStar = z
  .string({ message: 'expected an https URI or "*"' })
  .refine((s) => s === "*" || /^https:\/\/[^\s/?#]+\S*$/.test(s), 'expected an absolute https URI or "*"');

const RuleSchema = z.strictObject({
  principal,
  scopes: z
    .array(scopePattern, { message: "expected an array of scope patterns" })
    .min(1, "expected at least one scope"),
  consumer_orgs: z.array(orgOrStar, { message: "expected an array" }).default([]),
  systemuser_orgs: z.array(orgOrStar, { message: "expected an array" }).default([]),
  resources: z.array(resourceOrStar, { message: "expected an array" }).default([]),
});

const PolicySchema = z.strictObject({
  rules: z.array(z.unknown(), { message: "expected an array of rules" }),
});

/** Validates a parsed policy document; throws PolicyError naming `rules[i]` and the bad field. */
export function validatePolicy(document: unknown, origin: string): Policy {
  const top = PolicySchema.safeParse(document);
  if (!top.success) {
    throw new PolicyError(
      `${origin}: expected {"rules": [...]} (${top.error.issues[0]?.message ?? "invalid"})`,
    );
  }
  const rules = top.data.rules.map((raw, index) => {
    const rule = RuleSchema.safeParse(raw);
    if (rule.success) return rule.data;
    const issue = rule.error.issues[0];
    const field = issue?.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("") ?? "";
    const named =
      typeof raw === "object" &&
      raw !== null &&
      typeof (raw as { principal?: unknown }).principal === "string"
        ? ` (principal ${(raw as { principal: string }).principal})`
        : "";
    const message =
      issue?.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` : issue?.message;
    throw new PolicyError(`${origin}: rules[${index}]${named}${field}: ${message ?? "invalid rule"}`);
  });
  return { rules };
}
