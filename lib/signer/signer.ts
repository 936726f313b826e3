// The one interface every key source implements: sign a JWS signing input, describe the public key.
import type { JWK } from "jose";
import type { SigningAlg } from "../config/index.ts";

/** How a grant header names its key: a registered `kid`, or a certificate chain (leaf first, base64 DER). */
export type KeyHeader = { kid: string } | { x5c: string[] };

/** The public half as registered at Maskinporten: kty, alg, use "sig", kid, n/e, x5c if any. */
export type PublicJwk = JWK & { kid: string; alg: SigningAlg; use: "sig" };

/**
 * One usable key at one moment. A signer whose key can rotate (Secrets Manager) hands out a new
 * SigningKey after rotation; header, jwk and sign() of one SigningKey always belong together.
 */
export interface SigningKey {
  readonly alg: SigningAlg;
  readonly header: KeyHeader;
  readonly jwk: PublicJwk;
  /** What the audit record names as `key`: KMS key ARN, secret ARN + kid, or file path + kid. */
  readonly keyRef: string;
  /** Signs the ASCII JWS signing input (`b64url(header).b64url(payload)`), returns the raw signature. */
  sign(signingInput: Uint8Array): Promise<Uint8Array>;
}

export interface Signer {
  /** The key to sign with now; may re-read its source (at most as often as the source's refresh interval). */
  current(): Promise<SigningKey>;
}

/** Node's digest name for each JWS algorithm. */
export const DIGEST_OF: Readonly<Record<SigningAlg, "sha256" | "sha384" | "sha512">> = {
  RS256: "sha256",
  RS384: "sha384",
  RS512: "sha512",
};
