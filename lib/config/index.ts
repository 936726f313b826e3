// Environment -> validated, typed Config, once per cold start: each loader reads its variables in one pass; a bad value stops start-up naming the variable.
import { type ClientConfig, readClients } from "./clients.ts";
import { MASKINPORTEN_VARIABLES, type MaskinportenEnvironment, maskinportenOf } from "./environment.ts";
import { type KeyLifecycleConfig, readKeyLifecycle } from "./key-lifecycle.ts";
import { type PolicySource, readPolicySource } from "./policy-source.ts";
import { PROBLEM_TYPE_BASE } from "./problem-type.ts";
import { checked, given } from "./problems.ts";
import type { SigningKeyRef } from "./signing.ts";
import { type Env, integer, keyRef, upstreamUrl, variables } from "./variables.ts";

export type { ClientConfig, SigningConfig } from "./clients.ts";
export { type DocumentSource, documentText } from "./document-source.ts";
export type { MaskinportenEnvironment } from "./environment.ts";
export type { KeyLifecycleConfig } from "./key-lifecycle.ts";
export type { PolicySource } from "./policy-source.ts";
export { DEFAULT_PROBLEM_TYPE_BASE, problemTypeBaseOf } from "./problem-type.ts";
export { invalidConfiguration } from "./problems.ts";
export * from "./signing.ts";

/** What the token, jwks and health functions read. */
export interface Config {
  /** Shared by every client: the environment and its endpoints. */
  maskinporten: MaskinportenEnvironment;
  /** At least one; names unique. The single-client variables define one named "default". */
  clients: readonly ClientConfig[];
  policy: PolicySource;
  /** refusalSeconds: how long a Maskinporten 4xx is remembered per request (0 = not at all). */
  cache: { maxEntries: number; refreshAheadSeconds: number; refusalSeconds: number };
  /** Grants one principal may have signed per minute on one instance (0 = no limit). */
  grantsPerPrincipalPerMinute: number;
  /** How long one call to Maskinporten, Altinn or the self-service API may take. */
  upstreamTimeoutMs: number;
  /** Altinn's token exchange (ALTINN_EXCHANGE_URL, by default the environment's). */
  altinn: { exchangeUrl: string };
  /** PID_PSEUDONYM_KEY: the HMAC key of audit records' pid_pseudonym; required when the policy allows pid. */
  pidPseudonymKey?: SigningKeyRef | undefined;
}

/** What the key watch and `npm run keys` read: the environment, the clients and the key lifecycle; no policy. */
export interface KeyConfig {
  maskinporten: MaskinportenEnvironment;
  clients: readonly ClientConfig[];
  upstreamTimeoutMs: number;
  keys: KeyLifecycleConfig;
}

/** Altinn's exchange endpoint per Maskinporten environment: TT02 for test, production for prod. */
const ALTINN_EXCHANGE_URLS = {
  test: "https://platform.tt02.altinn.no/authentication/api/v1/exchange/maskinporten",
  prod: "https://platform.altinn.no/authentication/api/v1/exchange/maskinporten",
} as const;

/** Read by both loaders. */
const UPSTREAM_TIMEOUT_MS = integer("UPSTREAM_TIMEOUT_MS", 100, 8000, 3000);

/**
 * Only the client variables (CLIENTS / CLIENTS_FILE, or MASKINPORTEN_CLIENT_ID and SIGNING_*): for tools that
 * need the clients without the rest of the configuration (`npm run jwks`).
 */
export function loadClients(env: Env = process.env): ClientConfig[] {
  return checked({ clients: readClients(env) }).clients;
}

/**
 * The key lifecycle's sections alone (the key watch, `npm run keys`): the policy, cache and audit variables are
 * the token function's and are not read; one ConfigError lists every bad or missing variable it reads.
 */
export function loadKeyConfig(env: Env = process.env): KeyConfig {
  const read = variables({ ...MASKINPORTEN_VARIABLES, UPSTREAM_TIMEOUT_MS })(env);
  const maskinporten = given(read, (e) => ({ value: maskinportenOf(e) }));
  // The clients read on their own: the admin client is checked against them whatever else is wrong.
  const clients = readClients(env);
  const { variables: e, ...config } = checked({
    variables: read,
    maskinporten,
    clients,
    keys: readKeyLifecycle(env, maskinporten, clients),
  });
  return { ...config, upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS };
}

/**
 * Reads the token, jwks and health functions' variables (docs/deployment.md, "Configuration"); throws one
 * ConfigError listing every bad or missing one, the same for the packaged function and `npm start`. The key
 * lifecycle's (MASKINPORTEN_ADMIN_URL, KEY_*) are loadKeyConfig's: a bad one never stops these functions.
 */
export function loadConfig(env: Env = process.env): Config {
  const read = variables({
    ...MASKINPORTEN_VARIABLES,
    TOKEN_CACHE_MAX_ENTRIES: integer("TOKEN_CACHE_MAX_ENTRIES", 1, 1_000_000, 1000),
    TOKEN_REFRESH_AHEAD_SECONDS: integer("TOKEN_REFRESH_AHEAD_SECONDS", 0, 3600, 15),
    REFUSAL_CACHE_SECONDS: integer("REFUSAL_CACHE_SECONDS", 0, 3600, 30),
    GRANTS_PER_PRINCIPAL_PER_MINUTE: integer("GRANTS_PER_PRINCIPAL_PER_MINUTE", 0, 1_000_000, 600),
    UPSTREAM_TIMEOUT_MS,
    ALTINN_EXCHANGE_URL: upstreamUrl("ALTINN_EXCHANGE_URL"),
    PID_PSEUDONYM_KEY: keyRef("PID_PSEUDONYM_KEY"),
    // Read here only so a bad one is named with the rest; handlers read it themselves (problemTypeBaseOf).
    PROBLEM_TYPE_BASE,
  })(env);
  const {
    variables: e,
    clients,
    policy,
  } = checked({
    variables: read,
    clients: readClients(env),
    policy: readPolicySource(env),
  });
  return {
    maskinporten: maskinportenOf(e),
    clients,
    policy,
    cache: {
      maxEntries: e.TOKEN_CACHE_MAX_ENTRIES,
      refreshAheadSeconds: e.TOKEN_REFRESH_AHEAD_SECONDS,
      refusalSeconds: e.REFUSAL_CACHE_SECONDS,
    },
    grantsPerPrincipalPerMinute: e.GRANTS_PER_PRINCIPAL_PER_MINUTE,
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    altinn: { exchangeUrl: e.ALTINN_EXCHANGE_URL ?? ALTINN_EXCHANGE_URLS[e.MASKINPORTEN_ENV] },
    pidPseudonymKey: e.PID_PSEUDONYM_KEY,
  };
}
