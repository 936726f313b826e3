// Scope patterns against requested scopes: `*` globs, except over Digdir's administration scopes (literal only).
import { ADMINISTRATION_GLOBS, isAdministrationScope } from "./admin-scope.ts";
import { globMatch } from "./glob.ts";
import type { Policy } from "./schema.ts";

/** True when `pattern` grants `scope`: an administration scope only by an entry that is exactly it, without `*`. */
export function scopeMatches(pattern: string, scope: string): boolean {
  if (!isAdministrationScope(scope)) return globMatch(pattern, scope);
  return pattern === scope && !pattern.includes("*");
}

/** Why a rule does not grant `scope`, for the deny reason. */
export function scopeRefusal(who: string, scope: string): string {
  return isAdministrationScope(scope)
    ? `${who} may not request scope ${scope}: administration scopes (${ADMINISTRATION_GLOBS}) need a rule that lists them literally`
    : `${who} may not request scope ${scope}`;
}

/** The rules that grant administration scopes (each listed literally), for the cold-start log. */
export function administrationGrants(policy: Policy): { rule: number; scopes: string[] }[] {
  return policy.rules.flatMap((rule, index) => {
    const scopes = rule.scopes.filter((pattern) => isAdministrationScope(pattern) && !pattern.includes("*"));
    return scopes.length === 0 ? [] : [{ rule: index, scopes }];
  });
}
