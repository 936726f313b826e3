// How much the broker keeps and how long it waits: token cache, refusal memory, grant rate, upstream timeout.
import { integer, section } from "./variables.ts";

export interface TokenLimits {
  /** refusalSeconds: how long a Maskinporten 4xx is remembered per request (0 = not at all). */
  cache: { maxEntries: number; refreshAheadSeconds: number; refusalSeconds: number };
  /** Grants one principal may have signed per minute on one instance (0 = no limit). */
  grantsPerPrincipalPerMinute: number;
}

/** TOKEN_CACHE_MAX_ENTRIES, TOKEN_REFRESH_AHEAD_SECONDS, REFUSAL_CACHE_SECONDS, GRANTS_PER_PRINCIPAL_PER_MINUTE. */
export const readTokenLimits = section(
  {
    TOKEN_CACHE_MAX_ENTRIES: integer("TOKEN_CACHE_MAX_ENTRIES", 1, 1_000_000, 1000),
    TOKEN_REFRESH_AHEAD_SECONDS: integer("TOKEN_REFRESH_AHEAD_SECONDS", 0, 3600, 15),
    REFUSAL_CACHE_SECONDS: integer("REFUSAL_CACHE_SECONDS", 0, 3600, 30),
    GRANTS_PER_PRINCIPAL_PER_MINUTE: integer("GRANTS_PER_PRINCIPAL_PER_MINUTE", 0, 1_000_000, 600),
  },
  (e): TokenLimits => ({
    cache: {
      maxEntries: e.TOKEN_CACHE_MAX_ENTRIES,
      refreshAheadSeconds: e.TOKEN_REFRESH_AHEAD_SECONDS,
      refusalSeconds: e.REFUSAL_CACHE_SECONDS,
    },
    grantsPerPrincipalPerMinute: e.GRANTS_PER_PRINCIPAL_PER_MINUTE,
  }),
);

/** UPSTREAM_TIMEOUT_MS: how long one call to Maskinporten, Altinn or the self-service API may take. */
export const readUpstreamTimeoutMs = section(
  { UPSTREAM_TIMEOUT_MS: integer("UPSTREAM_TIMEOUT_MS", 100, 8000, 3000) },
  (e) => e.UPSTREAM_TIMEOUT_MS,
);
