// The key set as pure operations: renew, add, retire. What to post is computed here; nothing here calls the API.
import type { RegisteredJwk } from "./admin-api.ts";
import { KeySetRefusal } from "./errors.ts";

/** Maskinporten keeps at most this many keys per client. */
export const MAX_REGISTERED_KEYS = 5;

/** True when two JWKs hold the same public key (RSA n/e, EC crv/x/y). */
export function sameKeyMaterial(a: Pick<RegisteredJwk, "n" | "e" | "crv" | "x" | "y">, b: typeof a): boolean {
  return a.n === b.n && a.e === b.e && a.crv === b.crv && a.x === b.x && a.y === b.y;
}

const kids = (set: readonly RegisteredJwk[]) => set.map((k) => k.kid).join(", ") || "none";

/**
 * The set to post so `kid` gets a new year: the same keys, `kid` without its `exp` (the API then sets one year),
 * every other key with the `exp` it has, so nothing else changes and nothing is dropped.
 */
export function renewed(set: readonly RegisteredJwk[], kid: string): RegisteredJwk[] {
  if (!set.some((k) => k.kid === kid)) {
    throw new KeySetRefusal(`key ${kid} is not registered on the client (registered: ${kids(set)})`);
  }
  return set.map((key) => {
    if (key.kid !== kid) return key;
    const { exp: _renewed, ...rest } = key;
    return rest;
  });
}

export type Addition = { kind: "add"; keys: RegisteredJwk[] } | { kind: "present" };

/**
 * The set with `key` beside the others; `present` when exactly that key is already registered. Refuses a kid
 * that names another key, a key registered under another kid, and a sixth key.
 */
export function withAdded(set: readonly RegisteredJwk[], key: RegisteredJwk): Addition {
  const sameKid = set.find((k) => k.kid === key.kid);
  if (sameKid !== undefined) {
    if (sameKeyMaterial(sameKid, key)) return { kind: "present" };
    throw new KeySetRefusal(`kid ${key.kid} is already registered for another key; choose another --kid`);
  }
  const sameKey = set.find((k) => sameKeyMaterial(k, key));
  if (sameKey !== undefined) {
    throw new KeySetRefusal(`that key is already registered as kid ${sameKey.kid}`);
  }
  if (set.length >= MAX_REGISTERED_KEYS) {
    throw new KeySetRefusal(
      `the client already has ${set.length} keys, Maskinporten's limit; retire one first (registered: ${kids(set)})`,
    );
  }
  const { exp: _server, ...fresh } = key;
  return { kind: "add", keys: [...set, fresh] };
}

/** The set without `kid`; refuses the key the broker signs with and a kid that is not registered. */
export function without(
  set: readonly RegisteredJwk[],
  kid: string,
  signingKid: string | undefined,
): RegisteredJwk[] {
  if (kid === signingKid) {
    throw new KeySetRefusal(
      `key ${kid} is the key the broker signs with; switch SIGNING_KEY to another registered key and deploy first`,
    );
  }
  if (!set.some((k) => k.kid === kid)) {
    throw new KeySetRefusal(`key ${kid} is not registered on the client (registered: ${kids(set)})`);
  }
  return set.filter((k) => k.kid !== kid);
}
