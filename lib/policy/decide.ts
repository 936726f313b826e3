// Principal + request -> allow or deny(reason). Default deny; ONE rule must permit everything that was asked.
import type { TokenRequest } from "../grant/index.ts";
import { globMatch } from "./glob.ts";
import type { Principal } from "./principal.ts";
import type { Policy, PolicyRule } from "./schema.ts";

export type PolicyDecision = { allowed: true; rule: number } | { allowed: false; reason: string };

/** How far a rule got before it failed: the reason of the rule that got furthest is the one reported. */
type RuleCheck = { stage: number; reason: string } | undefined;

const listed = (list: readonly string[], value: string): boolean =>
  list.includes("*") || list.includes(value);

function checkRule(rule: PolicyRule, principal: Principal, request: TokenRequest): RuleCheck {
  const who = principal.arn;
  if (!globMatch(rule.principal, who)) return { stage: 0, reason: `no policy rule matches principal ${who}` };
  // An empty `clients` covers the one configured client (validation requires the list when there are several).
  if (rule.clients.length > 0 && (request.client === undefined || !listed(rule.clients, request.client))) {
    return {
      stage: 1,
      reason:
        request.client === undefined
          ? `${who} may use only the clients its rules name: the request must name its client`
          : `${who} may not use client ${request.client}`,
    };
  }
  const scope = request.scopes.find((s) => !rule.scopes.some((pattern) => globMatch(pattern, s)));
  if (scope !== undefined) return { stage: 2, reason: `${who} may not request scope ${scope}` };
  const resource = request.resource?.find((r) => !listed(rule.resources, r));
  if (resource !== undefined) return { stage: 3, reason: `${who} may not request resource ${resource}` };
  if (request.consumerOrg !== undefined && !listed(rule.consumer_orgs, request.consumerOrg)) {
    return { stage: 4, reason: `${who} may not act for consumer_org ${request.consumerOrg}` };
  }
  if (request.systemuserOrg !== undefined && !listed(rule.systemuser_orgs, request.systemuserOrg)) {
    return {
      stage: 5,
      reason: `${who} may not request a system user token for systemuser_org ${request.systemuserOrg}`,
    };
  }
  return undefined;
}

export function decide(policy: Policy, principal: Principal, request: TokenRequest): PolicyDecision {
  let furthest: { stage: number; reason: string } = {
    stage: -1,
    reason: `no policy rule matches principal ${principal.arn}`,
  };
  for (const [index, rule] of policy.rules.entries()) {
    const check = checkRule(rule, principal, request);
    if (check === undefined) return { allowed: true, rule: index };
    if (check.stage > furthest.stage) furthest = check;
  }
  return { allowed: false, reason: furthest.reason };
}
