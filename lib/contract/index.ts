// What the broker and its caller client both speak: the token answer, problem codes, min_ttl, cache key, backoff.
export { BACKOFF_BASE_MS, backoffMs, parseRetryAfter } from "./backoff.ts";
export { cacheKey, sortedSet, type TokenKeyFields } from "./cache-key.ts";
export { parseJson } from "./json.ts";
export { DEFAULT_MIN_TTL_SECONDS } from "./min-ttl.ts";
export { isProblemCode, PROBLEM_TABLE, type ProblemCode } from "./problem-codes.ts";
export {
  parseTokenAnswer,
  parseTokenResponse,
  type TokenAnswerBody,
  type TokenResponse,
} from "./token-answer.ts";
