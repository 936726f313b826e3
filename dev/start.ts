// `npm start`: the embedded default. Local key, emulator, policy and SigV4 gateway in front of the real handlers.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ConfigError } from "../lib/config/config-error.ts";
import { type ClientConfig, invalidConfiguration, loadConfig, loadKeyConfig } from "../lib/config/index.ts";
import { ADMIN_SCOPES, loadPolicy } from "../lib/policy/index.ts";
import { Problem } from "../lib/problem/index.ts";
import { createClientSigner, type PublicJwk } from "../lib/signer/index.ts";
import { exampleRegistration, exampleRules } from "./altinn-examples.ts";
import { credentialLookup, type LocalCredentials, loadOrCreateCredentials } from "./credentials.ts";
import { type Route, type RunningGateway, startGateway } from "./gateway.ts";
import { policyPrincipal } from "./identity.ts";
import { type MaskinportenEmulator, startMaskinportenEmulator } from "./maskinporten-emulator.ts";
import { createSigV4Verifier } from "./sigv4.ts";

/** Scopes the built-in emulator grants the local client, and the local policy allows. */
export const EXAMPLE_SCOPES = [
  "skatteetaten:mva",
  "skatteetaten:inntektsmottak",
  "nav:aareg/v1/arbeidsforhold",
];
export const LOCAL_CLIENT_ID = "local-broker";
/** At most this many generated local clients (LOCAL_CLIENTS). */
export const MAX_LOCAL_CLIENTS = 9;
/** An organisation the local client may act for (a valid test organisation number). */
export const EXAMPLE_CONSUMER_ORG = "310000000";
export const DEFAULT_REGION = "eu-north-1";

export interface LocalBrokerOptions {
  host?: string;
  port?: number;
  /** Where generated files live; git-ignored. */
  dir?: string;
  /** Environment the broker's configuration is read from; it is completed with local defaults. */
  env?: NodeJS.ProcessEnv;
}

export interface LocalBroker {
  url: string;
  region: string;
  credentials: LocalCredentials;
  /** What the emulator or the operator's environment configured; no secrets. */
  settings: {
    tokenUrl: string;
    signingKey: string;
    policy: string;
    emulator: boolean;
    /** The configured clients' names. */
    clients: string[];
    /**
     * With the emulator: a 0600 file of the variables `npm run keys` needs to manage the local clients' keys
     * there (with the AWS variables too when a key is in KMS or Secrets Manager: they may hold credentials).
     */
    keysEnvFile?: string;
  };
  emulator?: MaskinportenEmulator;
  gateway: RunningGateway;
  close(): Promise<void>;
}

/** `file:<dir>/<file>`, written with `content()` unless it exists: generated once, kept across starts. */
async function ensureFile(dir: string, file: string, content: () => string): Promise<string> {
  const path = join(dir, file);
  try {
    await readFile(path);
  } catch {
    await writeFile(path, content(), { mode: 0o600, flag: "wx" });
  }
  return `file:${path}`;
}

function ensureSigningKey(dir: string, file = "signing-key.pem"): Promise<string> {
  return ensureFile(dir, file, () =>
    String(
      generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }),
    ),
  );
}

/** LOCAL_CLIENTS: how many local clients to generate (default 1, the single-client form), or what is wrong. */
function localClientCount(env: NodeJS.ProcessEnv): { count: number; problems: string[] } {
  const value = env.LOCAL_CLIENTS?.trim() || "1";
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > MAX_LOCAL_CLIENTS) {
    return {
      count: 1,
      problems: [
        `LOCAL_CLIENTS: expected a number of local clients from 1 to ${MAX_LOCAL_CLIENTS}, got "${value}"`,
      ],
    };
  }
  const theirs = ["CLIENTS", "CLIENTS_FILE", "MASKINPORTEN_CLIENT_ID", "SIGNING_KEY"].filter(
    (name) => env[name],
  );
  if (count > 1 && theirs.length > 0) {
    return {
      count: 1,
      problems: [
        `LOCAL_CLIENTS: generates the clients and their keys; leave ${theirs.join(", ")} unset (CLIENTS, CLIENTS_FILE, MASKINPORTEN_CLIENT_ID and SIGNING_KEY)`,
      ],
    };
  }
  return { count, problems: [] };
}

/**
 * Checks the whole configuration at once, before anything starts, with the functions' own loaders: `npm start`'s
 * own lines, the token functions' (loadConfig) and the key lifecycle's (loadKeyConfig: the `npm run keys` the
 * banner offers reads them), in one error, each line once; what it fills in later (the emulator, the policy)
 * stands in.
 */
function checkConfiguration(env: NodeJS.ProcessEnv, own: readonly string[]): ClientConfig[] {
  const provisional = {
    ...env,
    ...(env.MASKINPORTEN_ENV === undefined ? { MASKINPORTEN_ENV: "test" } : {}),
    ...(env.POLICY === undefined && env.POLICY_FILE === undefined ? { POLICY: '{"rules":[]}' } : {}),
  };
  const problems = [...own];
  let clients: readonly ClientConfig[] = [];
  for (const load of [loadConfig, loadKeyConfig]) {
    try {
      clients = load(provisional).clients;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // Both read the environment and the clients: their lines about those are the same lines.
      problems.push(...error.problems.filter((line) => !problems.includes(line)));
    }
  }
  if (problems.length > 0) throw invalidConfiguration(problems);
  return [...clients];
}

/** Writes `count` local clients (local-1, local-2, ...), each with its own generated key; returns the CLIENTS_FILE path. */
async function writeLocalClients(dir: string, count: number): Promise<string> {
  const clients = [];
  for (let n = 1; n <= count; n++) {
    clients.push({
      name: `local-${n}`,
      client_id: `${LOCAL_CLIENT_ID}-${n}`,
      signing_key: await ensureSigningKey(dir, `signing-key-${n}.pem`),
    });
  }
  const path = join(dir, "clients.json");
  await writeFile(path, `${JSON.stringify({ clients }, null, 2)}\n`, { mode: 0o600 });
  return path;
}

async function writeLocalPolicy(
  dir: string,
  credentials: LocalCredentials,
  clients: readonly ClientConfig[],
): Promise<string> {
  const path = join(dir, "policy.json");
  // Each principal asks for the local client's own organisation, on behalf of EXAMPLE_CONSUMER_ORG, for an Altinn
  // token, and for the Altinn examples: a rule's lists are requirements, so each takes a rule. With several
  // clients every rule names the clients it covers: here all of them.
  const covers = clients.length > 1 ? { clients: ["*"] } : {};
  const principals = [...new Set(credentials.credentials.map((c) => policyPrincipal(c.principalArn)))];
  const rules = principals.flatMap((principal) => [
    { principal, scopes: EXAMPLE_SCOPES, ...covers },
    { principal, scopes: EXAMPLE_SCOPES, consumer_orgs: [EXAMPLE_CONSUMER_ORG], ...covers },
    { principal, scopes: EXAMPLE_SCOPES, exchanges: ["altinn"], ...covers },
    ...exampleRules({ principal, scopes: EXAMPLE_SCOPES, ...covers }),
  ]);
  await writeFile(path, `${JSON.stringify({ rules }, null, 2)}\n`, { mode: 0o600 });
  return path;
}

/**
 * Every client's public key, or one error naming each client whose key could not be loaded, by its problem code
 * (the operator's terminal: a key's ARN is shown, as in the cold-start log).
 */
async function publicKeys(clients: readonly ClientConfig[]): Promise<PublicJwk[]> {
  const settled = await Promise.allSettled(
    clients.map(async (client) => (await (await createClientSigner(client)).current()).jwk),
  );
  const failures = settled.flatMap((result, i) => {
    if (result.status === "fulfilled") return [];
    const error: unknown = result.reason;
    const message =
      error instanceof Problem ? error.auditReason : error instanceof Error ? error.message : String(error);
    const name = clients[i]?.name ?? "";
    const named =
      clients.length === 1 || message.startsWith("client ") ? message : `client ${name}: ${message}`;
    // The problem's code first, as the CLIs print theirs: signing_unavailable, as the function's cold start says.
    return [error instanceof Problem ? `${error.code}: ${named}` : named];
  });
  if (failures.length === 1) throw new Error(failures.join(""));
  if (failures.length > 1)
    throw new Error(`the clients' keys could not be loaded:\n  ${failures.join("\n  ")}`);
  return settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
}

/** Starts the emulator with every configured client registered under its own public key. */
async function startEmulator(clients: readonly ClientConfig[]): Promise<MaskinportenEmulator> {
  const keys = await publicKeys(clients);
  const emulator = await startMaskinportenEmulator({ host: "127.0.0.1", port: 0 });
  clients.forEach((client, i) => {
    emulator.registerClient({
      clientId: client.clientId,
      jwks: keys.slice(i, i + 1),
      // The self-service scopes too, so `npm run keys` manages the local clients' keys on the emulator.
      scopes: [...EXAMPLE_SCOPES, ADMIN_SCOPES.read, ADMIN_SCOPES.write],
      delegations: [{ consumerOrg: EXAMPLE_CONSUMER_ORG, scopes: EXAMPLE_SCOPES }],
      ...exampleRegistration(EXAMPLE_SCOPES, Date.now()),
    });
  });
  return emulator;
}

async function routes(): Promise<Route[]> {
  // Imported only after the environment is complete: the handlers read it at cold start.
  const [token, jwks, health] = await Promise.all([
    import("../functions/token.ts"),
    import("../functions/jwks.ts"),
    import("../functions/health.ts"),
  ]);
  return [
    { method: "POST", resource: "/token", functionName: "token", handler: token.handler },
    { method: "GET", resource: "/.well-known/jwks.json", functionName: "jwks", handler: jwks.handler },
    { method: "GET", resource: "/health", functionName: "health", handler: health.handler },
  ];
}

/**
 * Completes `env` with local defaults (a generated key, the emulator unless MASKINPORTEN_ENV is set, a policy
 * for the local principals) and serves the handlers behind a SigV4-verifying gateway. Mutates `env`.
 */
export async function startLocalBroker(options: LocalBrokerOptions = {}): Promise<LocalBroker> {
  const env = options.env ?? process.env;
  const dir = resolve(options.dir ?? ".local");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const region = env.AWS_REGION ?? DEFAULT_REGION;
  const credentials = await loadOrCreateCredentials({ path: join(dir, "credentials.json") });
  const local = localClientCount(env);
  if (local.count > 1) env.CLIENTS_FILE = await writeLocalClients(dir, local.count);
  if (env.CLIENTS === undefined && env.CLIENTS_FILE === undefined) {
    env.SIGNING_KEY ??= await ensureSigningKey(dir);
    if (env.MASKINPORTEN_ENV === undefined) env.MASKINPORTEN_CLIENT_ID ??= LOCAL_CLIENT_ID;
  }
  const clients = checkConfiguration(env, local.problems);
  let emulator: MaskinportenEmulator | undefined;
  if (env.MASKINPORTEN_ENV === undefined) {
    emulator = await startEmulator(clients);
    env.MASKINPORTEN_ENV = "test";
    env.MASKINPORTEN_ISSUER = emulator.issuer;
    env.MASKINPORTEN_TOKEN_URL = emulator.tokenUrl;
    env.ALTINN_EXCHANGE_URL = emulator.altinnExchangeUrl;
    env.MASKINPORTEN_ADMIN_URL ??= emulator.url;
  }
  if (env.POLICY === undefined && env.POLICY_FILE === undefined) {
    env.POLICY_FILE = await writeLocalPolicy(dir, credentials, clients);
    // The local policy allows consent: a person's is audited by the pseudonym of their pid.
    env.PID_PSEUDONYM_KEY ??= await ensureFile(
      dir,
      "pid-pseudonym.key",
      () => `${randomBytes(32).toString("hex")}\n`,
    );
  }
  // Fail before the banner, naming the bad variable or rule, as a cold start would.
  const config = loadConfig(env);
  await loadPolicy(
    config.policy,
    config.clients.map((client) => client.name),
  );
  const gateway = await startGateway({
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 3000,
    routes: await routes(),
    authenticate: createSigV4Verifier({ region, lookup: credentialLookup(credentials.credentials) }),
    vpceId: "vpce-local",
    onCrash: (error) => console.error("handler crashed:", error),
    onAbort: (error) => console.error("upload aborted:", error.message),
  });
  return {
    url: gateway.url,
    region,
    credentials,
    settings: {
      tokenUrl: config.maskinporten.tokenUrl,
      signingKey:
        env.SIGNING_KEY ??
        (env.CLIENTS_FILE === undefined ? "per client (CLIENTS)" : `per client (${env.CLIENTS_FILE})`),
      policy: env.POLICY_FILE ?? "inline POLICY",
      emulator: emulator !== undefined,
      clients: config.clients.map((client) => client.name),
      ...(emulator === undefined ? {} : { keysEnvFile: await writeKeysEnv(dir, env, config.clients) }),
    },
    ...(emulator === undefined ? {} : { emulator }),
    gateway,
    close: async () => {
      await gateway.close();
      await emulator?.close();
    },
  };
}

/** A value as a POSIX shell word: in single quotes, each quote written as '\''. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Writes the broker's variables as `npm start` completed them (what the key commands read, in the function's
 * names) to `<dir>/keys.env` for `set -a; . keys.env`. A key in KMS or Secrets Manager also needs the AWS
 * variables it started with (endpoint, region, credentials), which is why this is a 0600 file, not the banner.
 */
async function writeKeysEnv(
  dir: string,
  env: NodeJS.ProcessEnv,
  clients: readonly ClientConfig[],
): Promise<string> {
  const usesAws = clients.some((client) => client.signing.key.source !== "file");
  const names = usesAws
    ? /^(MASKINPORTEN_|SIGNING_|CLIENTS|KEY_|AWS_)/
    : /^(MASKINPORTEN_|SIGNING_|CLIENTS|KEY_)/;
  const lines = Object.entries(env)
    .filter((entry): entry is [string, string] => names.test(entry[0]) && Boolean(entry[1]))
    .map(([name, value]) => `${name}=${shellQuote(value)}\n`);
  const path = join(dir, "keys.env");
  await writeFile(path, lines.join(""), { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}
