// `npm run jwks -- --key <SIGNING_KEY value> [--kid X] [--alg RS256]`: prints the JWKS to register on the Maskinporten client.
import { parseArgs } from "node:util";
import {
  ConfigError,
  KID_PATTERN,
  parseSigningKeyRef,
  SIGNING_ALGS,
  type SigningAlg,
} from "../lib/config/index.ts";
import { Problem } from "../lib/problem/index.ts";
import { createSigner } from "../lib/signer/index.ts";
import { jwksOf } from "../lib/signer/jwks.ts";

const USAGE =
  "usage: npm run jwks -- --key <kms:<key>|secretsmanager:<secret>|file:<path>> [--kid <kid>] [--alg RS256|RS384|RS512]\n" +
  "       (--key, --kid and --alg default to SIGNING_KEY, SIGNING_KID and SIGNING_ALG)";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { key: { type: "string" }, kid: { type: "string" }, alg: { type: "string" } },
    strict: true,
  });
  // An empty variable is unset, as lib/config reads it (the deployed SIGNING_KID is "" by default).
  const env = (name: string) => process.env[name]?.trim() || undefined;
  const keyValue = values.key ?? env("SIGNING_KEY");
  if (keyValue === undefined) throw new ConfigError(`--key is required\n${USAGE}`);
  const alg = values.alg ?? env("SIGNING_ALG") ?? "RS256";
  if (!(SIGNING_ALGS as readonly string[]).includes(alg)) {
    throw new ConfigError(`--alg: expected RS256, RS384 or RS512, got "${alg}"`);
  }
  const kid = values.kid ?? env("SIGNING_KID");
  if (kid !== undefined && !KID_PATTERN.test(kid)) {
    throw new ConfigError("--kid: expected letters, digits, '.', '_' or '-' (at most 200)");
  }
  const signer = await createSigner({
    key: parseSigningKeyRef(keyValue),
    alg: alg as SigningAlg,
    ...(kid === undefined ? {} : { kid }),
  });
  const { jwk } = await signer.current();
  process.stdout.write(`${JSON.stringify(jwksOf(jwk), null, 2)}\n`);
}

main().catch((error: unknown) => {
  const message =
    error instanceof Problem
      ? `${error.detail}${error.causeName === undefined ? "" : ` (${error.causeName})`}`
      : error instanceof ConfigError || error instanceof TypeError
        ? error.message
        : `unexpected error: ${error instanceof Error ? error.name : String(error)}`;
  process.stderr.write(`jwks: ${message}\n`);
  process.exitCode = 1;
});
