// When to try again, pure: jittered exponential backoff and Retry-After, for the upstream calls and the callers alike.

/** Base of the backoff: the first retry waits 100–200 ms, the second 200–400 ms. */
export const BACKOFF_BASE_MS = 200;

/** Between half and all of `base * 2^(retry - 1)`: spreads retries of many instances apart. */
export function backoffMs(retry: number, random: number, baseMs = BACKOFF_BASE_MS): number {
  const ceiling = baseMs * 2 ** (retry - 1);
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.min(Math.max(random, 0), 1));
}

const DELTA_SECONDS = /^\d{1,10}$/;
/** The HTTP-date forms that name GMT (IMF-fixdate, RFC 850); anything else is not a date here. */
const HTTP_DATE = /^[A-Za-z]{3,9}, [0-9A-Za-z -]+ \d{2}:\d{2}:\d{2} GMT$/;

/** Retry-After (delta-seconds or HTTP-date) as milliseconds from `nowMs`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  const text = value?.trim();
  if (text === undefined || text === "") return undefined;
  if (DELTA_SECONDS.test(text)) return Number(text) * 1000;
  if (!HTTP_DATE.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
