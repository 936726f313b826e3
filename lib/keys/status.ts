// The registration status of a client's keys (pure): days left per key, whether the signing key is registered and fresh.
import type { RegisteredJwk } from "./admin-api.ts";
import { sameKeyMaterial } from "./key-set.ts";

const DAY_MS = 86_400_000;

export interface KeyReport {
  kid: string;
  /** ISO 8601; null when the API answered the key without `exp`. */
  expires_at: string | null;
  /** Whole days left (rounded down; negative once expired); null without `exp`. */
  days_left: number | null;
  /** The key the broker signs with: same kid and same public key. */
  signing: boolean;
}

/** What `npm run keys -- status` prints. */
export interface KeyStatusReport {
  client_id: string;
  signing_kid: string | null;
  keys: KeyReport[];
}

export interface KeyStatus {
  report: KeyStatusReport;
  /** Registered, the same public key, and at least `warnDays` left. */
  ok: boolean;
  /** The signing key is in the set (same kid, same public key), expired or not: renewable. */
  registered: boolean;
  /** Why not ok, in plain words; undefined when ok. */
  reason?: string | undefined;
  /** The signing key's days left; 0 when it is not registered (or unknown): what the alarm watches. */
  signingDaysLeft: number;
}

export interface StatusInput {
  clientId: string;
  /** The broker's signing key: its kid (undefined when it signs with a certificate, x5c) and public JWK. */
  signing: { kid: string | undefined; jwk: Pick<RegisteredJwk, "n" | "e" | "crv" | "x" | "y"> };
  registered: readonly RegisteredJwk[];
  /** Epoch ms. */
  now: number;
  warnDays: number;
}

export function daysLeft(exp: number, now: number): number {
  return Math.floor((exp * 1000 - now) / DAY_MS);
}

export function keyStatus(input: StatusInput): KeyStatus {
  const { signing, now, warnDays } = input;
  const keys = input.registered.map(
    (key): KeyReport => ({
      kid: key.kid,
      expires_at: key.exp === undefined ? null : new Date(key.exp * 1000).toISOString(),
      days_left: key.exp === undefined ? null : daysLeft(key.exp, now),
      signing: signing.kid !== undefined && key.kid === signing.kid && sameKeyMaterial(key, signing.jwk),
    }),
  );
  const report: KeyStatusReport = { client_id: input.clientId, signing_kid: signing.kid ?? null, keys };
  const current = keys.find((k) => k.signing);
  const verdict = (reason: string | undefined, signingDaysLeft: number): KeyStatus => ({
    report,
    ok: reason === undefined,
    registered: current !== undefined,
    reason,
    signingDaysLeft,
  });
  if (signing.kid === undefined) {
    return verdict("the broker signs with a certificate (x5c), not a registered key", 0);
  }
  if (current === undefined) {
    const other = input.registered.some((k) => k.kid === signing.kid);
    return verdict(
      other
        ? `kid ${signing.kid} is registered for another public key than the one the broker signs with`
        : `the signing key ${signing.kid} is not registered on client ${input.clientId}`,
      0,
    );
  }
  if (current.days_left === null) {
    return verdict(`the registration of ${signing.kid} carries no expiry`, 0);
  }
  const left = current.days_left;
  if (left < 0) return verdict(`the signing key ${signing.kid} expired on ${current.expires_at}`, 0);
  if (left < warnDays) {
    return verdict(
      `the signing key ${signing.kid} expires in ${left} days (${current.expires_at}), under KEY_EXPIRY_WARN_DAYS=${warnDays}: npm run keys -- renew`,
      left,
    );
  }
  return verdict(undefined, left);
}

/** Maskinporten's codes for a grant key it does not accept: not registered (or bad), expired. */
const OWN_KEY_REFUSED = /\bMP-12[01]\b/;

/** True when a refusal of the client's own grant says its key is not registered or expired. */
export function refusesOwnKey(error: { upstreamError: string; upstreamErrorDescription: string }): boolean {
  return error.upstreamError === "invalid_grant" && OWN_KEY_REFUSED.test(error.upstreamErrorDescription);
}

/**
 * The status when the client itself asked for the admin token and Maskinporten refused its grant with MP-120/121:
 * the key it signs with is not registered (or expired), so the set cannot be read with it at all.
 */
export function refusedStatus(
  clientId: string,
  signingKid: string | undefined,
  description: string,
): KeyStatus {
  return {
    report: { client_id: clientId, signing_kid: signingKid ?? null, keys: [] },
    ok: false,
    registered: false,
    reason: `Maskinporten refuses grants signed with the signing key (${description}); the registered set cannot be read with it: renew or register it through another admin client (KEY_ADMIN_CLIENT) or Samarbeidsportalen`,
    signingDaysLeft: 0,
  };
}
