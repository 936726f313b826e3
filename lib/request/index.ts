// The caller's request, parsed at the edge: body, scope syntax, organisation numbers.
export { isOrgNumber } from "./org-number.ts";
export { MAX_SCOPES, SCOPE_TOKEN, scopeSet, splitScope } from "./scope.ts";
export {
  DEFAULT_MIN_TTL,
  isJsonMediaType,
  MAX_BODY_BYTES,
  MAX_MIN_TTL,
  type ParsedTokenRequest,
  parseTokenRequest,
  type RawTokenBody,
  repeatingParser,
} from "./token-request.ts";
