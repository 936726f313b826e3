// Environment -> validated, typed Config, once per cold start: section readers composed per function; a bad value stops start-up naming the variable.
import { type AltinnConfig, readAltinn } from "./altinn.ts";
import { type ClientConfig, readClients } from "./clients.ts";
import { type MaskinportenEnvironment, readMaskinporten } from "./environment.ts";
import { type KeyLifecycleConfig, readKeyLifecycle } from "./key-lifecycle.ts";
import { readTokenLimits, readUpstreamTimeoutMs, type TokenLimits } from "./limits.ts";
import { readPidPseudonymKey } from "./pid-pseudonym-key.ts";
import { type PolicySource, readPolicySource } from "./policy-source.ts";
import { readProblemTypeBase } from "./problem-type.ts";
import { checked } from "./problems.ts";
import type { SigningKeyRef } from "./signing.ts";
import type { Env } from "./variables.ts";

export type { ClientConfig, SigningConfig } from "./clients.ts";
export { type DocumentSource, documentText } from "./document-source.ts";
export type { MaskinportenEnvironment } from "./environment.ts";
export type { KeyLifecycleConfig } from "./key-lifecycle.ts";
export type { PolicySource } from "./policy-source.ts";
export { DEFAULT_PROBLEM_TYPE_BASE, problemTypeBaseOf } from "./problem-type.ts";
export { invalidConfiguration } from "./problems.ts";
export * from "./signing.ts";

/** What the token, jwks and health functions read. */
export interface Config extends TokenLimits {
  /** Shared by every client: the environment and its endpoints. */
  maskinporten: MaskinportenEnvironment;
  /** At least one; names unique. The single-client variables define one named "default". */
  clients: readonly ClientConfig[];
  policy: PolicySource;
  upstreamTimeoutMs: number;
  /** Altinn's token exchange (ALTINN_EXCHANGE_URL, by default the environment's). */
  altinn: AltinnConfig;
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
  const maskinporten = readMaskinporten(env);
  const clients = readClients(env);
  return checked({
    maskinporten,
    clients,
    upstreamTimeoutMs: readUpstreamTimeoutMs(env),
    keys: readKeyLifecycle(env, maskinporten, clients),
  });
}

/**
 * Reads the token, jwks and health functions' variables (docs/deployment.md, "Configuration"); throws one
 * ConfigError listing every bad or missing one, the same for the packaged function and `npm start`. The key
 * lifecycle's (MASKINPORTEN_ADMIN_URL, KEY_*) are loadKeyConfig's: a bad one never stops these functions.
 */
export function loadConfig(env: Env = process.env): Config {
  const maskinporten = readMaskinporten(env);
  const clients = readClients(env);
  // PROBLEM_TYPE_BASE is read here only so a bad one is named with the rest; handlers read it themselves.
  const {
    limits,
    problemTypeBase: _named,
    ...config
  } = checked({
    maskinporten,
    clients,
    policy: readPolicySource(env),
    limits: readTokenLimits(env),
    upstreamTimeoutMs: readUpstreamTimeoutMs(env),
    altinn: readAltinn(env, maskinporten),
    pidPseudonymKey: readPidPseudonymKey(env),
    problemTypeBase: readProblemTypeBase(env),
  });
  return { ...config, ...limits };
}
