// Test support: keys and hand-made grants (any header, any claims) to drive the Maskinporten emulator.
import { createPublicKey, type KeyObject } from "node:crypto";
import { CompactSign, type JWK } from "jose";
import { newKey } from "./signer.ts";

export const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** A fresh RSA 2048 key pair: the private KeyObject and the public JWK under `kid`. */
export function rsaKey(kid: string): { privateKey: KeyObject; jwk: JWK & { kid: string } } {
  const privateKey = newKey();
  return { privateKey, jwk: { ...createPublicKey(privateKey).export({ format: "jwk" }), kid } };
}

/** A compact JWS over exactly these header fields and claims, nothing added. */
export function rawGrant(
  privateKey: KeyObject,
  header: Record<string, unknown> & { alg: string },
  claims: Record<string, unknown>,
): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader(header)
    .sign(privateKey);
}

export interface TokenEndpointAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** POSTs a grant the way the broker does and returns the parsed JSON answer. */
export async function postGrant(tokenUrl: string, assertion: string): Promise<TokenEndpointAnswer> {
  const response = await fetch(tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
