// `npm run jwks -- [--key <SIGNING_KEY value> [--kid X] [--alg RS256] | --client NAME]`: prints the JWKS to register at Maskinporten.
import { parseArgs } from "node:util";
import { ConfigError } from "../lib/config/config-error.ts";
import {
  type ClientConfig,
  loadClients,
  parseSigningKeyRef,
  SIGNING_ALGS,
  type SigningAlg,
} from "../lib/config/index.ts";
import { Problem } from "../lib/problem/index.ts";
import { KID_PATTERN } from "../lib/schema/names.ts";
import { createClientSigner, createSigner } from "../lib/signer/index.ts";
import { jwksOf } from "../lib/signer/jwks.ts";

const USAGE =
  "usage: npm run jwks -- --key <kms:<key>|secretsmanager:<secret>|file:<path>> [--kid <kid>] [--alg RS256|RS384|RS512]\n" +
  "       npm run jwks -- [--client <name>]\n" +
  "       (without --key: every client of CLIENTS / CLIENTS_FILE, or the one --client names;\n" +
  "        else the key of SIGNING_KEY, SIGNING_KID and SIGNING_ALG)\n" +
  "Prints the JWKS to register on the Maskinporten client: public keys only.";

// An empty variable is unset, as lib/config reads it (the deployed SIGNING_KID is "" by default).
const env = (name: string) => process.env[name]?.trim() || undefined;

/** The configured clients, or the one `--client` names. */
function chosenClients(name: string | undefined): ClientConfig[] {
  const clients = loadClients(process.env);
  if (name === undefined) return clients;
  const chosen = clients.filter((client) => client.name === name);
  if (chosen.length === 0) {
    throw new ConfigError(
      `--client: no client named ${name} is configured (configured: ${clients.map((c) => c.name).join(", ")})`,
    );
  }
  return chosen;
}

/** The options, or a usage error naming what is wrong (an unknown option, a missing value) above the usage. */
function options() {
  try {
    return parseArgs({
      options: {
        key: { type: "string" },
        kid: { type: "string" },
        alg: { type: "string" },
        client: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n${USAGE}`);
  }
}

async function main(): Promise<void> {
  const values = options();
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.key !== undefined && values.client !== undefined) {
    throw new ConfigError(
      `--client picks a configured client; --key names a key itself: give one of them\n${USAGE}`,
    );
  }
  if (values.key === undefined && (values.client !== undefined || env("CLIENTS") || env("CLIENTS_FILE"))) {
    const signers = await Promise.all(
      chosenClients(values.client).map((client) => createClientSigner(client)),
    );
    const keys = await Promise.all(signers.map(async (signer) => (await signer.current()).jwk));
    process.stdout.write(`${JSON.stringify(jwksOf(...keys), null, 2)}\n`);
    return;
  }
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
  // An operator runs this: it is told what the audit record says (the key's ARN), not only a caller's detail.
  const message =
    error instanceof Problem
      ? `${error.auditReason}${error.causeName === undefined ? "" : ` (${error.causeName})`}`
      : error instanceof ConfigError || error instanceof TypeError
        ? error.message
        : `unexpected error: ${error instanceof Error ? error.name : String(error)}`;
  process.stderr.write(`jwks: ${message}\n`);
  process.exitCode = 1;
});
