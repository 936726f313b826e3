// The canonical cache key of a token request: requests Maskinporten would answer alike share it, no others.

import { scopeSet, sortedSet } from "./scope.ts";
import type { TokenRequest } from "./types.ts";

/**
 * Every request field that shapes the token, in canonical form: the client (whose id and key sign the grant),
 * the sorted, de-duplicated scope set and resource list (an empty list is no resource, as in the grant),
 * consumer_org, systemuser_org and its externalRef, pid (one person's token is never another's, nor anyone's
 * without pid), the consent (id and who gave it), onbehalfof, and the exchange (an Altinn token is not a
 * Maskinporten token). The key holds pids: in memory only, never logged.
 * A field added to TokenRequest belongs here, and in the cache-key and cache-isolation tests.
 */
export function cacheKey(request: TokenRequest): string {
  const resource =
    request.resource === undefined || request.resource.length === 0 ? null : sortedSet(request.resource);
  return JSON.stringify([
    request.client ?? null,
    scopeSet(request.scopes),
    resource,
    request.consumerOrg ?? null,
    request.systemuserOrg ?? null,
    request.systemuserExternalRef ?? null,
    request.pid ?? null,
    request.consent === undefined ? null : [request.consent.id, request.consent.from],
    request.onbehalfof ?? null,
    request.exchange ?? null,
  ]);
}
