// `npm start`: the embedded default. Local key, emulator, policy and SigV4 gateway in front of the real handlers.
import { generateKeyPairSync } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { loadConfig, parseSigningKeyRef, SIGNING_ALGS, type SigningAlg } from "../lib/config/index.ts";
import { ADMIN_SCOPES } from "../lib/keys/admin-api.ts";
import { loadPolicy } from "../lib/policy/index.ts";
import { createSigner } from "../lib/signer/index.ts";
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
    /** With the emulator: the variables `npm run keys` needs to manage the local client's keys there. */
    keysEnv?: Record<string, string>;
  };
  emulator?: MaskinportenEmulator;
  gateway: RunningGateway;
  close(): Promise<void>;
}

async function ensureSigningKey(dir: string): Promise<string> {
  const path = join(dir, "signing-key.pem");
  try {
    await readFile(path);
  } catch {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    await writeFile(path, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
  }
  return `file:${path}`;
}

async function writeLocalPolicy(dir: string, credentials: LocalCredentials): Promise<string> {
  const path = join(dir, "policy.json");
  // Each principal asks for the local client's own organisation, on behalf of EXAMPLE_CONSUMER_ORG, and for an
  // Altinn token: a rule's consumer_orgs and exchanges are requirements, so that takes three rules.
  const principals = [...new Set(credentials.credentials.map((c) => policyPrincipal(c.principalArn)))];
  const rules = principals.flatMap((principal) => [
    { principal, scopes: EXAMPLE_SCOPES },
    { principal, scopes: EXAMPLE_SCOPES, consumer_orgs: [EXAMPLE_CONSUMER_ORG] },
    { principal, scopes: EXAMPLE_SCOPES, exchanges: ["altinn"] },
  ]);
  await writeFile(path, `${JSON.stringify({ rules }, null, 2)}\n`, { mode: 0o600 });
  return path;
}

/** Starts the emulator with the broker's public key registered; returns the env it answers on. */
async function startEmulator(env: NodeJS.ProcessEnv): Promise<MaskinportenEmulator> {
  const emulator = await startMaskinportenEmulator({ host: "127.0.0.1", port: 0 });
  const alg = (SIGNING_ALGS as readonly string[]).includes(env.SIGNING_ALG ?? "")
    ? (env.SIGNING_ALG as SigningAlg)
    : "RS256";
  const signer = await createSigner({
    key: parseSigningKeyRef(env.SIGNING_KEY ?? ""),
    alg,
    ...(env.SIGNING_KID ? { kid: env.SIGNING_KID } : {}),
  });
  const { jwk } = await signer.current();
  emulator.registerClient({
    clientId: env.MASKINPORTEN_CLIENT_ID ?? LOCAL_CLIENT_ID,
    jwks: [jwk],
    // The self-service scopes too, so `npm run keys` manages the local client's keys on the emulator.
    scopes: [...EXAMPLE_SCOPES, ADMIN_SCOPES.read, ADMIN_SCOPES.write],
    delegations: [{ consumerOrg: EXAMPLE_CONSUMER_ORG, scopes: EXAMPLE_SCOPES }],
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
  env.SIGNING_KEY ??= await ensureSigningKey(dir);
  let emulator: MaskinportenEmulator | undefined;
  if (env.MASKINPORTEN_ENV === undefined) {
    emulator = await startEmulator(env);
    env.MASKINPORTEN_ENV = "test";
    env.MASKINPORTEN_ISSUER = emulator.issuer;
    env.MASKINPORTEN_TOKEN_URL = emulator.tokenUrl;
    env.ALTINN_EXCHANGE_URL = emulator.altinnExchangeUrl;
    env.MASKINPORTEN_CLIENT_ID ??= LOCAL_CLIENT_ID;
    env.MASKINPORTEN_ADMIN_URL ??= emulator.url;
  }
  if (env.POLICY === undefined && env.POLICY_FILE === undefined) {
    env.POLICY_FILE = await writeLocalPolicy(dir, credentials);
  }
  // Fail before the banner, naming the bad variable or rule, as a cold start would.
  await loadPolicy(loadConfig(env).policy);
  const gateway = await startGateway({
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 3000,
    routes: await routes(),
    authenticate: createSigV4Verifier({ region, lookup: credentialLookup(credentials.credentials) }),
    vpceId: "vpce-local",
    onCrash: (error) => console.error("handler crashed:", error),
  });
  return {
    url: gateway.url,
    region,
    credentials,
    settings: {
      tokenUrl: env.MASKINPORTEN_TOKEN_URL ?? `Maskinporten ${env.MASKINPORTEN_ENV}`,
      signingKey: env.SIGNING_KEY,
      policy: env.POLICY_FILE ?? "inline POLICY",
      emulator: emulator !== undefined,
      ...(emulator === undefined ? {} : { keysEnv: keysEnvOf(env) }),
    },
    ...(emulator === undefined ? {} : { emulator }),
    gateway,
    close: async () => {
      await gateway.close();
      await emulator?.close();
    },
  };
}

/** The broker's variables as `npm start` completed them: what the key commands read, in the function's names. */
function keysEnvOf(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        /^(MASKINPORTEN_|SIGNING_|CLIENTS|KEY_)/.test(entry[0]) && entry[1] !== undefined && entry[1] !== "",
    ),
  );
}
