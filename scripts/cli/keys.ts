// `npm run keys -- status|renew|rotate|retire`: parses the command line, runs one lifecycle step, prints, picks the exit code.
import { parseArgs } from "node:util";
import { loadKeyConfig, parseSigningKeyRef } from "../../lib/config/index.ts";
import { CodedError } from "../../lib/errors/coded.ts";
import { KeyError } from "../../lib/keys/errors.ts";
import type { KeyLifecycle } from "../../lib/keys/lifecycle.ts";
import { createKeyLifecycles, type KeySetupDeps } from "../../lib/keys/setup.ts";
import { type KeyStatus, refusesOwnKey } from "../../lib/keys/status.ts";
import { ADMIN_SCOPES } from "../../lib/policy/index.ts";
import { Problem, UpstreamRejected } from "../../lib/problem/index.ts";
import { DEFAULT_CLIENT_NAME, KID_PATTERN } from "../../lib/schema/names.ts";
import { createSigner } from "../../lib/signer/index.ts";

export const KEYS_USAGE = `usage: npm run keys -- <command> [--client <name>]
  status                                  the registered keys; exit 0 when the signing key has at least
                                          KEY_EXPIRY_WARN_DAYS left, 1 when it expires sooner or is not registered
  renew [--kid <kid>]                     post the set again so the signing key (or <kid>) gets a new year
  rotate --to <signing key> [--kid <kid>] register a new key (kms:…, secretsmanager:… or file:…) beside the others
  retire --kid <kid>                      remove a key from the set (never the key the broker signs with)
Configuration comes from the function's environment (MASKINPORTEN_*, SIGNING_*, MASKINPORTEN_ADMIN_URL, KEY_*).
Exit 2 on errors, with the reason on stderr.`;

export const EXIT = { ok: 0, attention: 1, error: 2 } as const;

export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

/** Refusals worth a usage hint rather than a stack: bad arguments. */
class UsageError extends KeyError {
  override readonly name = "UsageError";
  readonly code = "usage";
}

type Values = { client?: string; kid?: string; to?: string; help?: boolean };

export async function keysCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CommandIo,
  deps: KeySetupDeps = {},
): Promise<number> {
  try {
    return await run(argv, env, io, deps);
  } catch (error) {
    io.err(`keys: ${messageOf(error)}\n`);
    return EXIT.error;
  }
}

async function run(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CommandIo,
  deps: KeySetupDeps,
): Promise<number> {
  const { values, positionals } = parseCommandLine(argv);
  const [command, ...extra] = positionals;
  if (values.help === true) {
    io.out(`${KEYS_USAGE}\n`);
    return EXIT.ok;
  }
  if (command === undefined || extra.length > 0) throw new UsageError("expected one command");
  if (values.kid !== undefined && !KID_PATTERN.test(values.kid)) {
    throw new UsageError("--kid: expected letters, digits, '.', '_' or '-' (at most 200)");
  }
  const config = loadKeyConfig(env);
  const lifecycle = pick(await createKeyLifecycles(config, deps), values.client);
  const print = (status: KeyStatus) => io.out(`${JSON.stringify(status.report, null, 2)}\n`);
  switch (command) {
    case "status": {
      const status = await lifecycle.status();
      print(status);
      if (status.reason !== undefined) io.err(`keys: ${status.reason}\n`);
      return status.ok ? EXIT.ok : EXIT.attention;
    }
    case "renew": {
      const renewal = await lifecycle.renew(values.kid);
      const expiry = (s: KeyStatus) => s.report.keys.find((k) => k.kid === renewal.kid)?.expires_at ?? "?";
      io.err(
        `keys: renewed ${renewal.kid}: expires ${expiry(renewal.after)} (was ${expiry(renewal.before)})\n`,
      );
      print(renewal.after);
      if (renewal.after.reason !== undefined) io.err(`keys: ${renewal.after.reason}\n`);
      return renewal.after.ok ? EXIT.ok : EXIT.attention;
    }
    case "rotate": {
      if (values.to === undefined) throw new UsageError("rotate needs --to <signing key>");
      const client = config.clients.find((c) => c.name === lifecycle.client.name);
      const signer = await createSigner(
        {
          key: parseSigningKeyRef(values.to),
          alg: client?.signing.alg ?? "RS256",
          ...(values.kid === undefined ? {} : { kid: values.kid }),
        },
        deps.signer,
      );
      const { jwk } = await signer.current();
      const before = await lifecycle.status();
      const rotation = await lifecycle.rotate(jwk);
      print(rotation.status);
      io.err(rotationSteps(lifecycle, rotation.kid, rotation.added, values.to, before.report.signing_kid));
      return EXIT.ok;
    }
    case "retire": {
      if (values.kid === undefined) throw new UsageError("retire needs --kid <kid>");
      const status = await lifecycle.retire(values.kid);
      print(status);
      io.err(`keys: retired ${values.kid} from client ${lifecycle.client.clientId}\n`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function parseCommandLine(argv: readonly string[]): { values: Values; positionals: string[] } {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        client: { type: "string" },
        kid: { type: "string" },
        to: { type: "string" },
        help: { type: "boolean" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The client named by --client; without it the only configured one. */
function pick(lifecycles: readonly KeyLifecycle[], name: string | undefined): KeyLifecycle {
  const names = lifecycles.map((l) => l.client.name).join(", ");
  if (name === undefined) {
    if (lifecycles.length === 1 && lifecycles[0] !== undefined) return lifecycles[0];
    throw new UsageError(`--client is required when several clients are configured (${names})`);
  }
  const found = lifecycles.find((l) => l.client.name === name);
  if (found === undefined)
    throw new UsageError(`--client: no configured client is named "${name}" (${names})`);
  return found;
}

function rotationSteps(
  lifecycle: KeyLifecycle,
  kid: string,
  added: boolean,
  to: string,
  oldKid: string | null,
): string {
  const { clientId, name } = lifecycle.client;
  const retire = oldKid === null || oldKid === kid ? "<old kid>" : oldKid;
  return [
    added
      ? `keys: registered ${kid} on client ${clientId} beside the other keys; Maskinporten accepts it within about 2 minutes.`
      : `keys: ${kid} was registered on client ${clientId} already; nothing posted.`,
    "Steps left:",
    `  1. Switch the function to SIGNING_KEY=${to} and SIGNING_KID=${kid}${name === DEFAULT_CLIENT_NAME ? "" : ` (client ${name})`}, give its role the key permissions, and deploy.`,
    "  2. Check that tokens are issued and that the audit records' key names the new key.",
    `  3. npm run keys -- retire --kid ${retire}${name === DEFAULT_CLIENT_NAME ? "" : ` --client ${name}`}`,
    "",
  ].join("\n");
}

function messageOf(error: unknown): string {
  if (error instanceof UsageError) return `${error.message}\n${KEYS_USAGE}`;
  if (error instanceof UpstreamRejected && error.upstreamError === "invalid_scope") {
    return `${error.detail} (the admin client needs the scopes ${ADMIN_SCOPES.read} and ${ADMIN_SCOPES.write} from Digdir)`;
  }
  if (error instanceof UpstreamRejected && refusesOwnKey(error)) {
    return `${error.detail} (the admin token is signed with a key Maskinporten no longer accepts: use another admin client, KEY_ADMIN_CLIENT, or Samarbeidsportalen)`;
  }
  // An operator runs this: the audit reason, which names the key's ARN where a caller's detail does not.
  if (error instanceof Problem) {
    return `${error.auditReason}${error.causeName === undefined ? "" : ` (${error.causeName})`}`;
  }
  if (error instanceof CodedError) return error.message;
  return `unexpected error: ${error instanceof Error ? error.name : String(error)}`;
}
