// The caller's request, parsed at the edge: body, scope syntax, organisation numbers, resources.
export {
  consentParty,
  EXTERNAL_REF_RULE,
  isConsentId,
  isExternalRef,
  isOnbehalfof,
  isPersonConsent,
  ONBEHALFOF_RULE,
} from "./consent.ts";
export { isOrgNumber } from "./org-number.ts";
export { isPid, PID_MESSAGE, type PidOptions } from "./pid.ts";
export { isResourceUri, MAX_RESOURCES, RESOURCE_RULE } from "./resource.ts";
export { MAX_SCOPES, parseScope, SCOPE_TOKEN, splitScope } from "./scope.ts";
export { textSchema } from "./text.ts";
export {
  isJsonMediaType,
  MAX_BODY_BYTES,
  MAX_MIN_TTL,
  type ParsedTokenRequest,
  parseTokenRequest,
  type RawTokenBody,
  repeatingParser,
  type TokenRequestOptions,
  withOnlyClient,
} from "./token-request.ts";
export type {
  ClientName,
  Consent,
  NotPid,
  OrgNumber,
  Pid,
  ResourceSet,
  ResourceUri,
  Scope,
  ScopeSet,
  TokenRequest,
} from "./types.ts";
