// The canonical cache key of a token request: requests Maskinporten would answer alike share it, no others.

/**
 * The request fields that shape a token, their lists in canonical form (sorted, de-duplicated): a parsed
 * TokenRequest is one, and the caller client builds one from its own request.
 */
export interface TokenKeyFields {
  readonly client?: string | undefined;
  readonly scopes: readonly string[];
  readonly resource?: readonly string[] | undefined;
  readonly consumerOrg?: string | undefined;
  readonly systemuserOrg?: string | undefined;
  readonly systemuserExternalRef?: string | undefined;
  readonly pid?: string | undefined;
  readonly consent?: { readonly id: string; readonly from: string } | undefined;
  readonly onbehalfof?: string | undefined;
  readonly exchange?: "altinn" | undefined;
}

/** Sorted and de-duplicated: the one canonical form of a list whose order and repeats mean nothing. */
export function sortedSet<T extends string>(values: readonly T[]): T[] {
  return [...new Set(values)].sort();
}

/**
 * Every request field that shapes the token, in canonical form: the client (whose id and key sign the grant),
 * the scope set and resource list (sorted and de-duplicated by the parse; an empty list is no resource, as in the grant),
 * consumer_org, systemuser_org and its externalRef, pid (one person's token is never another's, nor anyone's
 * without pid), the consent (id and who gave it), onbehalfof, and the exchange (an Altinn token is not a
 * Maskinporten token). The key holds pids: in memory only, never logged.
 * A field added to TokenRequest belongs here, and in the cache-key and cache-isolation tests.
 */
export function cacheKey(request: TokenKeyFields): string {
  const resource = request.resource === undefined || request.resource.length === 0 ? null : request.resource;
  return JSON.stringify([
    request.client ?? null,
    request.scopes,
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
