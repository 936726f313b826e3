// Shared key handling for in-memory key sources (file, Secrets Manager): parse, check alg, build the public JWK.
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign } from "node:crypto";
import { ConfigError } from "../config/config-error.ts";
import type { SigningAlg } from "../config/index.ts";
import { DIGEST_OF, type KeyHeader, type PublicJwk, type SigningKey } from "./signer.ts";

/** JSON.parse's message quotes the input, which here is a private key: it never goes into the error. */
function parseJwkText(text: string, origin: string): never {
  try {
    return JSON.parse(text) as never;
  } catch {
    throw new ConfigError(`${origin}: the private JWK is not valid JSON`);
  }
}

/** Parses a PKCS#8 PEM or a private JWK (object or JSON text) into a private KeyObject. */
export function parsePrivateKey(material: string | object, origin: string): KeyObject {
  try {
    if (typeof material === "object") return createPrivateKey({ key: material as never, format: "jwk" });
    const text = material.trim();
    if (text.startsWith("{")) return createPrivateKey({ key: parseJwkText(text, origin), format: "jwk" });
    if (text.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
      throw new ConfigError(
        `${origin}: encrypted private keys are not supported; use an unencrypted PKCS#8 PEM`,
      );
    }
    return createPrivateKey(text);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${origin}: not a PKCS#8 PEM or private JWK (${(error as Error).message})`);
  }
}

/** Throws unless the key is RSA of at least 2048 bits: Maskinporten accepts RS256/384/512 grants only. */
export function assertAlgFits(key: KeyObject, alg: SigningAlg, origin: string): void {
  if (key.asymmetricKeyType !== "rsa") {
    throw new ConfigError(
      `${origin}: unsupported key type ${key.asymmetricKeyType ?? "unknown"} for ${alg}; Maskinporten accepts only RSA keys`,
    );
  }
  if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new ConfigError(`${origin}: RSA keys must be at least 2048 bits`);
  }
}

/** The RSA members of a key's public JWK (private or public key); every caller has checked it with assertAlgFits. */
function rsaMembers(key: KeyObject): { kty: "RSA"; n: string; e: string } {
  const { n, e } = (key.type === "public" ? key : createPublicKey(key)).export({ format: "jwk" });
  return { kty: "RSA", n: String(n), e: String(e) };
}

/** The kid a key goes by: the configured one, or else its RFC 7638 thumbprint. */
export function kidOf(key: KeyObject, kid: string | undefined): string {
  if (kid !== undefined) return kid;
  const { kty, n, e } = rsaMembers(key);
  // RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
  return createHash("sha256").update(JSON.stringify({ e, kty, n })).digest("base64url");
}

/** The public JWK of a key under its kid, with its certificate chain when it has one. */
export function publicJwkOf(key: KeyObject, alg: SigningAlg, kid: string, x5c?: string[]): PublicJwk {
  // Spread, not `x5c: undefined`: jose's JWK type (PublicJwk's base) admits x5c absent, not undefined.
  return { ...rsaMembers(key), kid, alg, use: "sig", ...(x5c === undefined ? {} : { x5c }) };
}

/**
 * A SigningKey over an in-memory private key (file or Secrets Manager). Its public JWK is derived when asked (the
 * jwks route, the key watch): the token path never reads it.
 */
export function inMemorySigningKey(
  key: KeyObject,
  alg: SigningAlg,
  named: { kid: string; header: KeyHeader; keyRef: string; x5c?: string[] | undefined },
): SigningKey {
  const { kid, header, keyRef, x5c } = named;
  const digest = DIGEST_OF[alg];
  return {
    alg,
    header,
    keyRef,
    get jwk() {
      return publicJwkOf(key, alg, kid, x5c);
    },
    sign: async (input) => new Uint8Array(sign(digest, input, key)),
  };
}
