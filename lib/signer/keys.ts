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

/** The public JWK of a key (private or public), with its kid (given, or the RFC 7638 thumbprint). */
export async function publicJwkOf(
  key: KeyObject,
  alg: SigningAlg,
  kid?: string,
  x5c?: string[],
): Promise<PublicJwk> {
  const jwk = (key.type === "public" ? key : createPublicKey(key)).export({ format: "jwk" });
  // Every caller has checked the key with assertAlgFits: an RSA key always exports n and e.
  const base = { kty: "RSA", n: String(jwk.n), e: String(jwk.e) };
  // RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
  const thumbprint =
    kid ??
    createHash("sha256")
      .update(JSON.stringify({ e: base.e, kty: "RSA", n: base.n }))
      .digest("base64url");
  // Spread, not `x5c: undefined`: jose's JWK type (PublicJwk's base) admits x5c absent, not undefined.
  return { ...base, kid: thumbprint, alg, use: "sig", ...(x5c === undefined ? {} : { x5c }) };
}

/** A SigningKey over an in-memory private key (file or Secrets Manager). */
export function inMemorySigningKey(
  key: KeyObject,
  alg: SigningAlg,
  jwk: PublicJwk,
  header: KeyHeader,
  keyRef: string,
): SigningKey {
  const digest = DIGEST_OF[alg];
  return { alg, header, jwk, keyRef, sign: async (input) => new Uint8Array(sign(digest, input, key)) };
}
