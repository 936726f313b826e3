// Test support: a real grant signed through a SigningKey, and its exchange at the Maskinporten emulator.
import { randomUUID } from "node:crypto";
import type { MaskinportenEmulator } from "../../dev/maskinporten-emulator.ts";
import { buildGrantClaims, signGrant } from "../../lib/grant/index.ts";
import type { SigningKey } from "../../lib/signer/signer.ts";
import { postGrant, type TokenEndpointAnswer } from "./grants.ts";
import { asParsed } from "./request.ts";

export const TEST_SCOPE = "skatteetaten:mva";

/** A grant for `clientId` addressed to `issuer`, signed by the key under test. */
export function signedGrant(key: SigningKey, issuer: string, clientId: string): Promise<string> {
  const claims = buildGrantClaims(asParsed({ scopes: [TEST_SCOPE] }), {
    issuer,
    clientId,
    now: Date.now() / 1000,
    jti: randomUUID(),
  });
  return signGrant(key, claims);
}

/** Signs a grant with `key` and posts it to the emulator, under a client registered with `registration`. */
export async function exchangeAtEmulator(
  emu: MaskinportenEmulator,
  key: SigningKey,
  registration: { jwks?: SigningKey["jwk"][]; trustedCertificates?: string[] } = { jwks: [key.jwk] },
): Promise<TokenEndpointAnswer> {
  const clientId = `broker-${randomUUID()}`;
  emu.registerClient({ clientId, scopes: [TEST_SCOPE], ...registration });
  return postGrant(emu.tokenUrl, await signedGrant(key, emu.issuer, clientId));
}
