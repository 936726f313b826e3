// A signing key as configured: where it lives (kms:, secretsmanager:, file:), its kid and the algorithms Maskinporten accepts.
import { ConfigError } from "./config-error.ts";

/** The algorithms Maskinporten accepts for a grant: RSA PKCS#1 v1.5 only. */
export const SIGNING_ALGS = ["RS256", "RS384", "RS512"] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** Where a key lives (a signing key, the pid pseudonym key). Only `lib/signer` turns this into a key. */
export type SigningKeyRef =
  | { source: "kms"; keyId: string }
  | { source: "secretsmanager"; secretId: string }
  | { source: "file"; path: string };

/** Parses `kms:…`, `secretsmanager:…` or `file:…`; throws with the expected shape otherwise. */
export function parseSigningKeyRef(value: string): SigningKeyRef {
  const colon = value.indexOf(":");
  const prefix = colon < 0 ? "" : value.slice(0, colon);
  const rest = colon < 0 ? "" : value.slice(colon + 1).trim();
  if (rest !== "") {
    if (prefix === "kms") return { source: "kms", keyId: rest };
    if (prefix === "secretsmanager") return { source: "secretsmanager", secretId: rest };
    if (prefix === "file") return { source: "file", path: rest };
  }
  throw new ConfigError(
    `expected kms:<key id, key ARN or alias/...>, secretsmanager:<secret id or ARN> or file:<path>, got ${shownRef(value, prefix, rest)}`,
  );
}

/**
 * What a bad reference shows of itself: an alias or ARN whole (configuration, with its prefix missing), else only
 * its prefix, as the value may be a key pasted where its reference belongs (a PEM, a JWK, an HMAC key in hex),
 * which must reach no log.
 */
function shownRef(value: string, prefix: string, rest: string): string {
  if (/^(alias\/[\w/-]{1,250}|arn:aws[\w-]*:[\w:/-]{1,250})$/.test(value)) return `"${value}"`;
  if (/^[A-Za-z][A-Za-z0-9_-]{0,30}$/.test(prefix)) return `"${prefix}:${rest === "" ? "" : "…"}"`;
  return "a value that is no reference (not shown: it may be key material)";
}
