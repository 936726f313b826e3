// Environment -> validated, typed Config (valibot), once per cold start; a bad value stops start-up naming the variable.
import * as v from "valibot";
import { objectMessages } from "../schema/index.ts";
import { type ClientConfig, clientForm, readClients, singleClient } from "./clients.ts";
import type { DocumentSource } from "./document-source.ts";
import { MASKINPORTEN_ENVIRONMENTS, type MaskinportenEnvironment, maskinportenOf } from "./environment.ts";
import {
  type KeyLifecycleConfig,
  type KeyLifecycleValues,
  keyLifecycleConfig,
  keyLifecycleProblems,
} from "./key-lifecycle.ts";
import { ProblemTypeEnv } from "./problem-type.ts";
import { checked, expecting, problems, type Read, readOf } from "./problems.ts";
import { KID_PATTERN, parseSigningKeyRef, SIGNING_ALGS, type SigningKeyRef } from "./signing.ts";

export {
  CLIENT_NAME_PATTERN,
  type ClientConfig,
  DEFAULT_CLIENT_NAME,
  parseClients,
  type SigningConfig,
} from "./clients.ts";
export { ConfigError } from "./config-error.ts";
export { type DocumentSource, documentText } from "./document-source.ts";
export { MASKINPORTEN_ENVIRONMENTS, type MaskinportenEnvironment } from "./environment.ts";
export {
  type KeyLifecycleConfig,
  SELF_SERVICE_URLS,
  SEPARATE_ADMIN_CLIENT_NAME,
} from "./key-lifecycle.ts";
export { invalidConfiguration } from "./problems.ts";
export * from "./signing.ts";

export type PolicySource = DocumentSource;

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
  upstreamTimeoutMs: number;
  /** Altinn's token exchange (ALTINN_EXCHANGE_URL, by default the environment's). */
  altinn: { exchangeUrl: string };
  /** PID_PSEUDONYM_KEY: the HMAC key of audit records' pid_pseudonym; required when the policy allows pid. */
  pidPseudonymKey?: SigningKeyRef;
  keys: KeyLifecycleConfig;
  /** PROBLEM_TYPE_BASE: every problem+json `type` is this and the code. */
  problemTypeBase: string;
}

/**
 * A variable's trimmed value; unset and empty are both undefined. Unset reads as "" (a default) so that the
 * rest of the pipe runs for it too: valibot skips an optional field's pipe when the field is absent.
 */
const optional = v.pipe(
  v.optional(v.string(), ""),
  v.transform((s) => {
    const trimmed = s?.trim();
    return trimmed === "" ? undefined : trimmed;
  }),
);

const integer = (name: string, min: number, max: number, fallback: number) =>
  v.pipe(
    optional,
    v.rawTransform(({ dataset: { value: s }, addIssue, NEVER }) => {
      if (s === undefined) return fallback;
      const n = Number(s);
      if (!Number.isInteger(n) || n < min || n > max) {
        addIssue({ message: expecting(name, `an integer from ${min} to ${max}`)({ input: s }) });
        return NEVER;
      }
      return n;
    }),
  );

/** https, or plain http to a loopback host only (the local emulator): grants and tokens never cross a network in clear. */
export function isUpstreamUrl(value: string): boolean {
  if (/\s/.test(value)) return false;
  try {
    const url = new URL(value);
    if (url.protocol === "https:") return url.hostname !== "";
    return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  } catch {
    return false;
  }
}

const httpsUrl = (name: string) =>
  v.pipe(
    optional,
    v.check(
      (s) => s === undefined || isUpstreamUrl(s),
      expecting(name, "an https URL (plain http only to 127.0.0.1, localhost or [::1])"),
    ),
  );

/** A signing key reference (kms:, secretsmanager:, file:) when set. */
const keyRef = (name: string) =>
  v.pipe(
    optional,
    v.rawTransform(({ dataset: { value: s }, addIssue, NEVER }) => {
      if (s === undefined) return undefined;
      try {
        return parseSigningKeyRef(s);
      } catch (error) {
        addIssue({ message: `${name}: ${(error as Error).message}` });
        return NEVER;
      }
    }),
  );

/** A key id for a JWT header when set. */
const kid = (name: string) =>
  v.pipe(
    optional,
    v.check(
      (s) => s === undefined || KID_PATTERN.test(s),
      expecting(name, "letters, digits, '.', '_' or '-' (at most 200)"),
    ),
  );

const KeyLifecycleEnv = {
  MASKINPORTEN_ADMIN_URL: httpsUrl("MASKINPORTEN_ADMIN_URL"),
  KEY_EXPIRY_WARN_DAYS: integer("KEY_EXPIRY_WARN_DAYS", 1, 365, 30),
  KEY_AUTO_RENEW: v.pipe(
    optional,
    v.optional(v.picklist(["true", "false"], expecting("KEY_AUTO_RENEW", '"true" or "false"')), "false"),
  ),
  KEY_ADMIN_CLIENT: optional,
  KEY_ADMIN_CLIENT_ID: optional,
  KEY_ADMIN_SIGNING_KEY: keyRef("KEY_ADMIN_SIGNING_KEY"),
  KEY_ADMIN_SIGNING_KID: kid("KEY_ADMIN_SIGNING_KID"),
};

const EnvEntries = {
  MASKINPORTEN_ENV: v.pipe(
    optional,
    v.picklist(["test", "prod"], expecting("MASKINPORTEN_ENV", '"test" or "prod"')),
  ),
  MASKINPORTEN_ISSUER: httpsUrl("MASKINPORTEN_ISSUER"),
  MASKINPORTEN_TOKEN_URL: httpsUrl("MASKINPORTEN_TOKEN_URL"),
  MASKINPORTEN_CLIENT_ID: optional,
  SIGNING_KEY: keyRef("SIGNING_KEY"),
  SIGNING_KID: kid("SIGNING_KID"),
  SIGNING_ALG: v.pipe(
    optional,
    v.optional(v.picklist(SIGNING_ALGS, expecting("SIGNING_ALG", "RS256, RS384 or RS512"))),
  ),
  CLIENTS: optional,
  CLIENTS_FILE: optional,
  POLICY_FILE: optional,
  POLICY: optional,
  TOKEN_CACHE_MAX_ENTRIES: integer("TOKEN_CACHE_MAX_ENTRIES", 1, 1_000_000, 1000),
  TOKEN_REFRESH_AHEAD_SECONDS: integer("TOKEN_REFRESH_AHEAD_SECONDS", 0, 3600, 15),
  UPSTREAM_TIMEOUT_MS: integer("UPSTREAM_TIMEOUT_MS", 100, 8000, 3000),
  REFUSAL_CACHE_SECONDS: integer("REFUSAL_CACHE_SECONDS", 0, 3600, 30),
  GRANTS_PER_PRINCIPAL_PER_MINUTE: integer("GRANTS_PER_PRINCIPAL_PER_MINUTE", 0, 1_000_000, 600),
  ALTINN_EXCHANGE_URL: httpsUrl("ALTINN_EXCHANGE_URL"),
  PID_PSEUDONYM_KEY: keyRef("PID_PSEUDONYM_KEY"),
  ...KeyLifecycleEnv,
  ...ProblemTypeEnv,
};
const EnvSchema = v.object(
  EnvEntries,
  objectMessages(EnvEntries, { notObject: "the environment: expected an object of variables" }),
);

const CLIENT_VARIABLES = [
  "MASKINPORTEN_CLIENT_ID",
  "SIGNING_KEY",
  "SIGNING_KID",
  "SIGNING_ALG",
  "CLIENTS",
  "CLIENTS_FILE",
] as const;
const ClientEnvSchema = v.pick(EnvSchema, CLIENT_VARIABLES);

/**
 * The clients of either form, or what is wrong with them: CLIENTS / CLIENTS_FILE is read whatever else is
 * wrong, so one start names every problem; the single-client form once its variables parsed.
 */
function clientsOf(
  env: Readonly<Record<string, string | undefined>>,
  variables: Read<v.InferOutput<typeof ClientEnvSchema>>,
): Read<ClientConfig[]> {
  const form = clientForm(env);
  if (form.errors.length > 0) return { errors: form.errors };
  if (form.source !== undefined) {
    const read = readClients(form.source);
    return "errors" in read ? read : { value: read.clients };
  }
  return "errors" in variables ? { errors: [] } : { value: [singleClient(variables.value)] };
}

/**
 * Only the client variables (CLIENTS / CLIENTS_FILE, or MASKINPORTEN_CLIENT_ID and SIGNING_*): for tools that
 * need the clients without the rest of the configuration (`npm run jwks`).
 */
export function loadClients(env: Readonly<Record<string, string | undefined>> = process.env): ClientConfig[] {
  const variables = readOf(v.safeParse(ClientEnvSchema, env));
  return checked({ variables, clients: clientsOf(env, variables) }).clients;
}

/** POLICY_FILE / POLICY: exactly one of them set (and not empty). */
function policyOf(env: Readonly<Record<string, string | undefined>>): Read<PolicySource> {
  const [file, inline] = [env.POLICY_FILE?.trim(), env.POLICY?.trim()];
  if (file && inline) return { errors: ["POLICY_FILE / POLICY: set one of them, not both"] };
  if (file) return { value: { kind: "file", path: file } };
  if (inline) return { value: { kind: "inline", json: inline } };
  return {
    errors: [
      "POLICY_FILE / POLICY: expected a policy file path or inline policy JSON; see docs/api.md (Policy)",
    ],
  };
}

/** The admin client variables checked against the clients, once both parsed (else their own lines say why). */
function adminOf(
  variables: Read<KeyLifecycleValues>,
  clients: Read<readonly ClientConfig[]>,
): Read<undefined> {
  return problems(
    "errors" in variables || "errors" in clients ? [] : keyLifecycleProblems(variables.value, clients.value),
  );
}

/** What the key watch and `npm run keys` read: the environment, the clients and the key lifecycle; no policy. */
export type KeyConfig = Pick<Config, "maskinporten" | "clients" | "upstreamTimeoutMs" | "keys">;

const KeyEnvSchema = v.pick(EnvSchema, [
  "MASKINPORTEN_ENV",
  "MASKINPORTEN_ISSUER",
  "MASKINPORTEN_TOKEN_URL",
  "UPSTREAM_TIMEOUT_MS",
  ...CLIENT_VARIABLES,
  ...(Object.keys(KeyLifecycleEnv) as (keyof typeof KeyLifecycleEnv)[]),
]);

/**
 * The key lifecycle's variables alone (the key watch, `npm run keys`): the policy, cache and audit variables are
 * the token function's and are not read; one ConfigError lists every bad or missing variable it reads.
 */
export function loadKeyConfig(env: Readonly<Record<string, string | undefined>> = process.env): KeyConfig {
  const variables = readOf(v.safeParse(KeyEnvSchema, env));
  const clientsRead = clientsOf(env, variables);
  const { variables: e, clients } = checked({
    variables,
    clients: clientsRead,
    admin: adminOf(variables, clientsRead),
  });
  return {
    maskinporten: maskinportenOf(e),
    clients,
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    keys: keyLifecycleConfig(e.MASKINPORTEN_ENV, e),
  };
}

/**
 * Reads the configuration variables (docs/deployment.md, "Configuration"); throws one ConfigError listing every
 * bad or missing one, the same for the packaged function and `npm start`.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const variables = readOf(v.safeParse(EnvSchema, env));
  const clientsRead = clientsOf(env, variables);
  const {
    variables: e,
    clients,
    policy,
  } = checked({
    variables,
    clients: clientsRead,
    policy: policyOf(env),
    admin: adminOf(variables, clientsRead),
  });
  const defaults = MASKINPORTEN_ENVIRONMENTS[e.MASKINPORTEN_ENV];
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
    altinn: { exchangeUrl: e.ALTINN_EXCHANGE_URL ?? defaults.altinnExchangeUrl },
    ...(e.PID_PSEUDONYM_KEY === undefined ? {} : { pidPseudonymKey: e.PID_PSEUDONYM_KEY }),
    keys: keyLifecycleConfig(e.MASKINPORTEN_ENV, e),
    problemTypeBase: e.PROBLEM_TYPE_BASE,
  };
}
