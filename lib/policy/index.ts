// Who may have which token: the policy document, the principal normaliser and the decision.
export { ADMIN_SCOPES, type AdminScope, isAdministrationScope } from "./admin-scope.ts";
export { type Arn, arnMatches, formatArn, parseArn } from "./arn.ts";
export { decide, type PolicyDecision } from "./decide.ts";
export { globMatch } from "./glob.ts";
export { loadPolicy } from "./load.ts";
export {
  type ArnPrincipal,
  normalisePrincipal,
  type Principal,
  type UnparsedPrincipal,
} from "./principal.ts";
export { type Policy, PolicyError, type PolicyRule, validatePolicy } from "./schema.ts";
export { administrationGrants, scopeMatches } from "./scope-match.ts";
