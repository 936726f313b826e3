// How long a returned token must still be valid when the caller does not say: one default for the broker and its client.

/** Seconds; the broker applies it to a request without `min_ttl`, and the client's cache serves by the same rule. */
export const DEFAULT_MIN_TTL_SECONDS = 30;
