// What the caller client retries: only failures that prove the broker signed no grant for the request.

/** 429: the broker's grant budget or API Gateway's throttling; neither signed a grant. */
export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([429]);

/** Errors of a connection that never opened (the request was never sent), as Node's fetch reports them. */
const CONNECT_FAILURES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/**
 * True when fetch failed before the request left: refused, no such host, connect timeout (for every address
 * tried). A reset or timeout after sending is not: the broker may have signed and asked Maskinporten already.
 */
export function neverConnected(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | null)?.cause ?? error;
  if (typeof cause !== "object" || cause === null) return false;
  const { code, errors } = cause as { code?: unknown; errors?: unknown };
  if (typeof code === "string") return CONNECT_FAILURES.has(code);
  return Array.isArray(errors) && errors.length > 0 && errors.every((e) => neverConnected({ cause: e }));
}
