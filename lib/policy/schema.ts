// The policy document (docs/api.md, "Policy") as a valibot schema; a bad document is refused naming the rule and the field.
import * as v from "valibot";
import { ConfigError } from "../config/config-error.ts";
import {
  EXTERNAL_REF_RULE,
  isExternalRef,
  isOnbehalfof,
  isOrgNumber,
  isResourceUri,
  ONBEHALFOF_RULE,
  RESOURCE_RULE,
  SCOPE_TOKEN,
  textSchema,
} from "../request/index.ts";
import { issuePath, strictDocument } from "../schema/index.ts";
import { CLIENT_NAME_PATTERN, DEFAULT_CLIENT_NAME } from "../schema/names.ts";
import { ACCOUNT_ID, type Arn, parseArn, rolePath } from "./arn.ts";

export interface PolicyRule {
  /** IAM ARN pattern as written; `*` globs within one field. */
  readonly principal: string;
  /** `principal` parsed into its fields, for matching. */
  readonly principalArn: Arn;
  /** Scope patterns; `*` globs. */
  readonly scopes: readonly string[];
  /** Requirements: empty = the request must not carry the field; else it must, matching an entry (`*` any). */
  readonly consumer_orgs: readonly string[];
  readonly systemuser_orgs: readonly string[];
  /** System users' externalRefs or `*`; non-empty = the request must name its system user's externalRef. */
  readonly systemuser_external_refs: readonly string[];
  /** iss_onbehalfof values or `*`. */
  readonly onbehalfofs: readonly string[];
  /** https URIs or `*`. */
  readonly resources: readonly string[];
  /** Configured client names or `*`; empty covers the one client (required when several are configured). */
  readonly clients: readonly string[];
  /** Token exchanges the rule requires (`["altinn"]`); empty = the request must not ask for one. */
  readonly exchanges: readonly "altinn"[];
  /** true = the request must carry a pid (end-user-restricted token); false = it must not. */
  readonly pid: boolean;
  /** true = the request must carry an Altinn consent; false = it must not. */
  readonly consent: boolean;
}

export interface Policy {
  readonly rules: readonly PolicyRule[];
}

export class PolicyError extends ConfigError {
  override readonly name = "PolicyError";
}

const FIELD = /^[a-z0-9*-]+$/;
const REGION = /^[a-z0-9*-]*$/;
const RESOURCE_TYPE = /^[a-z-]+$/;
const ARN_EXAMPLE = "arn:aws:iam::111122223333:role/payroll-* (* globs within one field)";

/** The parsed principal pattern, or what is wrong with it. */
function principalPattern(pattern: string): Arn | string {
  const arn = parseArn(pattern);
  if (
    arn === undefined ||
    !FIELD.test(arn.partition) ||
    !FIELD.test(arn.service) ||
    !REGION.test(arn.region)
  ) {
    return `expected an IAM ARN such as ${ARN_EXAMPLE}`;
  }
  if (arn.account !== "*" && !ACCOUNT_ID.test(arn.account)) {
    return `the account is 12 digits or *, got "${arn.account}"`;
  }
  if (!RESOURCE_TYPE.test(arn.resourceType)) {
    return `the resource type (role/, user/) is literal, got "${arn.resourceType}/"; * globs the name only`;
  }
  if (arn.resourceType === "assumed-role") {
    return "write the role ARN arn:aws:iam::<account>:role/<name>; assumed-role sessions are normalised to it";
  }
  if (rolePath(arn) !== undefined) {
    return "write the role without its path (arn:aws:iam::<account>:role/<name>): API Gateway reports assumed-role callers without it";
  }
  return arn;
}

const principal = v.pipe(
  v.string("expected an IAM ARN pattern"),
  v.rawTransform(({ dataset: { value: text }, addIssue, NEVER }) => {
    const arn = principalPattern(text);
    if (typeof arn === "string") {
      addIssue({ message: arn });
      return NEVER;
    }
    return { text, arn };
  }),
);

const scopePattern = v.pipe(
  v.string("expected a scope pattern"),
  v.regex(SCOPE_TOKEN, "expected a scope-token (RFC 6749 characters, no spaces; * globs)"),
);

/** A string that is `*` or passes `test`; `rule` is the message for anything else. */
const patternOrStar = (test: (s: string) => boolean, rule: string) =>
  textSchema((s) => s === "*" || test(s), rule);

const orgOrStar = patternOrStar(isOrgNumber, 'expected a 9-digit organisation number or "*"');
const resourceOrStar = patternOrStar(isResourceUri, `expected ${RESOURCE_RULE} or "*"`);
const externalRefOrStar = patternOrStar(isExternalRef, `${EXTERNAL_REF_RULE}, or "*"`);
const onbehalfofOrStar = patternOrStar(isOnbehalfof, `${ONBEHALFOF_RULE}, or "*"`);
const clientOrStar = patternOrStar(
  (s) => CLIENT_NAME_PATTERN.test(s),
  'expected a configured client name or "*"',
);

/** An optional list, empty when absent. */
const listOf = <T extends v.GenericSchema<string, string>>(item: T, message: string) =>
  v.optional(v.array(item, message), () => []);

const ruleEntries = {
  principal,
  scopes: v.pipe(
    v.array(scopePattern, "expected an array of scope patterns"),
    v.minLength(1, "expected at least one scope"),
  ),
  consumer_orgs: listOf(orgOrStar, "expected an array"),
  systemuser_orgs: listOf(orgOrStar, "expected an array"),
  systemuser_external_refs: listOf(externalRefOrStar, "expected an array"),
  onbehalfofs: listOf(onbehalfofOrStar, "expected an array"),
  resources: listOf(resourceOrStar, "expected an array"),
  clients: listOf(clientOrStar, "expected an array of client names"),
  exchanges: v.optional(
    v.array(v.literal("altinn", 'expected "altinn"'), 'expected an array: ["altinn"]'),
    () => [],
  ),
  pid: v.optional(v.boolean("expected true or false"), false),
  consent: v.optional(v.boolean("expected true or false"), false),
};
const RuleSchema = strictDocument(ruleEntries, { notObject: "expected a rule object" });

/** A validated rule, its principal pattern parsed once at cold start. */
function compiled(rule: v.InferOutput<typeof RuleSchema>): PolicyRule {
  return { ...rule, principal: rule.principal.text, principalArn: rule.principal.arn };
}

const PolicySchema = strictDocument(
  { rules: v.array(v.unknown(), "expected an array of rules") },
  { notObject: "expected an object" },
);

/** `rules[2] (principal arn:…)`: how a message names a rule. */
function ruleLabel(index: number, raw: unknown): string {
  const principal = (raw as { principal?: unknown } | null)?.principal;
  return `rules[${index}]${typeof principal === "string" ? ` (principal ${principal})` : ""}`;
}

/** A rule's `clients` against the configured client names: required with several, and only names that exist. */
function checkClients(rule: Pick<PolicyRule, "clients">, clients: readonly string[]): string | undefined {
  if (rule.clients.length === 0) {
    return clients.length > 1
      ? `required: this broker has several Maskinporten clients (${clients.join(", ")}); list the ones this rule covers, or ["*"]`
      : undefined;
  }
  const unknown = rule.clients.find((name) => name !== "*" && !clients.includes(name));
  return unknown === undefined
    ? undefined
    : `no client named "${unknown}" is configured (configured: ${clients.join(", ")})`;
}

/**
 * Validates a parsed policy document against the configured client names; throws PolicyError naming
 * `rules[i]` and the bad field.
 */
export function validatePolicy(
  document: unknown,
  origin: string,
  clients: readonly string[] = [DEFAULT_CLIENT_NAME],
): Policy {
  const top = v.safeParse(PolicySchema, document);
  if (!top.success) throw new PolicyError(`${origin}: expected {"rules": [...]} (${top.issues[0].message})`);
  const rules = top.output.rules.map((raw, index) => {
    const rule = v.safeParse(RuleSchema, raw);
    if (rule.success) {
      const problem = checkClients(rule.output, clients);
      if (problem !== undefined)
        throw new PolicyError(`${origin}: ${ruleLabel(index, raw)}.clients: ${problem}`);
      return compiled(rule.output);
    }
    const issue = rule.issues[0];
    const field = issuePath(issue)
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`))
      .join("");
    throw new PolicyError(`${origin}: ${ruleLabel(index, raw)}${field}: ${issue.message}`);
  });
  return { rules };
}
