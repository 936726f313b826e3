// Principal + request -> allow or deny(reason). Default deny; ONE rule must permit everything that was asked.
import { shownArn } from "../problem/index.ts";
import type { TokenRequest } from "../request/types.ts";
import { arnMatches } from "./arn.ts";
import type { Principal } from "./principal.ts";
import type { Policy, PolicyRule } from "./schema.ts";
import { scopeMatches, scopeRefusal } from "./scope-match.ts";

/**
 * `personalOnly` (only when true): some rule allows everything but the pid or the consent, so the denial is about one
 * of them (its audit record carries the pseudonym of the pid, or of a person's consent; any other denial is made
 * before a pseudonym is computed).
 */
export type PolicyDecision =
  | { allowed: true; rule: number }
  | { allowed: false; reason: string; personalOnly?: true };

/** How a reason names the principal: masked as the audit record shows it, made only when a reason is. */
type Who = () => string;

/** One part of a rule checked against the request: why it does not allow it, or undefined. */
type RuleCheck = (rule: PolicyRule, request: TokenRequest, who: Who) => string | undefined;

const listed = (list: readonly string[], value: string): boolean =>
  list.includes("*") || list.includes(value);

/**
 * A rule's list as a requirement: empty means the request must not carry the field, non-empty means it must
 * carry it and every value must be listed. An omitted field never widens a rule.
 */
function requirement(
  field: string,
  list: readonly string[],
  values: readonly string[] | undefined,
  who: Who,
  refused: (value: string) => string,
): string | undefined {
  if (values === undefined || values.length === 0) {
    return list.length === 0
      ? undefined
      : `${who()} may not request these scopes without ${field} (the rule requires ${field})`;
  }
  const value = values.find((v) => !listed(list, v));
  return value === undefined ? undefined : refused(value);
}

/** A rule's flag as a requirement: true = the request must carry the field, false = it must not. */
function flag(
  field: string,
  required: boolean,
  present: boolean,
  who: Who,
  kind: string,
): string | undefined {
  if (present) return required ? undefined : `${who()} may not request ${kind}`;
  return required
    ? `${who()} may not request these scopes without ${field} (the rule requires ${field})`
    : undefined;
}

const one = (value: string | undefined): readonly string[] | undefined =>
  value === undefined ? undefined : [value];

/** In the order reasons are given: the first that fails names what did not match. */
const CHECKS: readonly RuleCheck[] = [
  // An empty `clients` covers the one configured client (validation requires the list when there are several).
  (rule, request, who) => {
    if (rule.clients.length === 0 || (request.client !== undefined && listed(rule.clients, request.client))) {
      return undefined;
    }
    return request.client === undefined
      ? `${who()} may use only the clients its rules name: the request must name its client`
      : `${who()} may not use client ${request.client}`;
  },
  (rule, request, who) => {
    const scope = request.scopes.find((s) => !rule.scopes.some((pattern) => scopeMatches(pattern, s)));
    return scope === undefined ? undefined : scopeRefusal(who(), scope);
  },
  (rule, request, who) =>
    requirement(
      "resource",
      rule.resources,
      request.resource,
      who,
      (r) => `${who()} may not request resource ${r}`,
    ),
  (rule, request, who) =>
    requirement(
      "consumer_org",
      rule.consumer_orgs,
      one(request.consumerOrg),
      who,
      (org) => `${who()} may not act for consumer_org ${org}`,
    ),
  (rule, request, who) =>
    requirement(
      "systemuser_org",
      rule.systemuser_orgs,
      one(request.systemuserOrg),
      who,
      (org) => `${who()} may not request a system user token for systemuser_org ${org}`,
    ),
  // An externalRef is caller-chosen text: a reason says that it did not match, not what it was.
  (rule, request, who) =>
    requirement(
      "systemuser_external_ref",
      rule.systemuser_external_refs,
      one(request.systemuserExternalRef),
      who,
      () =>
        `${who()} may not request this system user externalRef (not in the rule's systemuser_external_refs)`,
    ),
  (rule, request, who) =>
    requirement(
      "onbehalfof",
      rule.onbehalfofs,
      one(request.onbehalfof),
      who,
      () => `${who()} may not act for this onbehalfof value (not in the rule's onbehalfofs)`,
    ),
  (rule, request, who) =>
    requirement(
      "exchange",
      rule.exchanges,
      one(request.exchange),
      who,
      (exchange) =>
        `${who()} may not exchange the token for an ${exchange} token (the rule has no exchanges)`,
    ),
  // Never the pid itself in a reason, nor who gave a consent (a person's is a pid): they are personal data.
  (rule, request, who) =>
    flag(
      "pid",
      rule.pid,
      request.pid !== undefined,
      who,
      'a pid-restricted token (the rule has no "pid": true)',
    ),
  (rule, request, who) =>
    flag(
      "consent",
      rule.consent,
      request.consent !== undefined,
      who,
      'a consent token (the rule has no "consent": true)',
    ),
];

/** The pid and the consent are checked last: a rule that fails there allows everything else. */
const PERSONAL_STAGE = CHECKS.length - 2;

/** How far a rule got: the index of the check that failed (principal = -1) and its reason; undefined = allowed. */
function checkRule(
  rule: PolicyRule,
  principal: Principal,
  request: TokenRequest,
  who: Who,
): { stage: number; reason: string } | undefined {
  if (principal.kind === "unparsed" || !arnMatches(rule.principalArn, principal.fields)) {
    return { stage: -1, reason: `no policy rule matches principal ${who()}` };
  }
  for (let stage = 0; stage < CHECKS.length; stage++) {
    const reason = CHECKS[stage]?.(rule, request, who);
    if (reason !== undefined) return { stage, reason };
  }
  return undefined;
}

/** The first rule that allows all of the request; else the reason of the rule that got furthest. */
export function decide(policy: Policy, principal: Principal, request: TokenRequest): PolicyDecision {
  // A reason names the principal as the audit record does: a name the caller chose is masked.
  let shown: string | undefined;
  const who = () => {
    shown ??= shownArn(principal.arn);
    return shown;
  };
  let furthest: { stage: number; reason: string } | undefined;
  for (let index = 0; index < policy.rules.length; index++) {
    const rule = policy.rules[index] as PolicyRule;
    const check = checkRule(rule, principal, request, who);
    if (check === undefined) return { allowed: true, rule: index };
    if (furthest === undefined || check.stage > furthest.stage) furthest = check;
  }
  const reason = furthest?.reason ?? `no policy rule matches principal ${who()}`;
  const denied = { allowed: false, reason } as const;
  return furthest !== undefined && furthest.stage >= PERSONAL_STAGE
    ? { ...denied, personalOnly: true }
    : denied;
}
