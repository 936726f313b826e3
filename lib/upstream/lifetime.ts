// How long an upstream token is trusted to live: its expires_in, never past its own exp (a JWT), never beyond 24 h.
import { parseJson } from "../contract/json.ts";

/** No upstream token is cached longer than this, whatever it says (Maskinporten's live 2 minutes, Altinn's 30). */
export const MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

/**
 * How far our clock may be from the issuer's before its `exp` is read as earlier than it is: the skew Maskinporten
 * itself tolerates in grants. The token's own exp - iat still bounds the lifetime exactly.
 */
export const CLOCK_TOLERANCE_SECONDS = 10;

/** A JWT's `exp` and `iat` (unix seconds) when it has them; empty for a token that is not a JWT. */
export function jwtTimes(token: string): { exp?: number | undefined; iat?: number | undefined } {
  const parts = token.split(".");
  if (parts.length !== 3) return {};
  const claims = parseJson(Buffer.from(parts[1] ?? "", "base64url").toString("utf8"));
  if (typeof claims !== "object" || claims === null) return {};
  const seconds = (value: unknown) =>
    typeof value === "number" && Number.isFinite(value) ? value : undefined;
  const { exp, iat } = claims as { exp?: unknown; iat?: unknown };
  return { exp: seconds(exp), iat: seconds(iat) };
}

/**
 * Whole seconds the token may be served for, from `nowMs` (wall clock): the least of `expiresIn`, the lifetime its
 * own claims give it (exp - iat, and exp - now within the clock tolerance) and 24 h; undefined when that is not
 * above 0 (a token already expired, or not worth caching).
 */
export function trustedLifetime(token: string, expiresIn: number, nowMs: number): number | undefined {
  const { exp, iat } = jwtTimes(token);
  const limits = [expiresIn, MAX_TOKEN_LIFETIME_SECONDS];
  if (exp !== undefined) limits.push(exp - nowMs / 1000 + CLOCK_TOLERANCE_SECONDS);
  if (exp !== undefined && iat !== undefined) limits.push(exp - iat);
  const seconds = Math.floor(Math.min(...limits));
  return seconds > 0 ? seconds : undefined;
}
