// MASKINPORTEN_ADMIN_URL, KEY_*: the key lifecycle's configuration (self-service API, key watch, admin client).
import type { ClientConfig } from "./clients.ts";
import type { MaskinportenEnvironment } from "./environment.ts";
import { given, type Read } from "./problems.ts";
import {
  type Env,
  integer,
  keyRef,
  kid,
  text,
  upstreamUrl,
  type ValuesOf,
  variables,
  word,
} from "./variables.ts";

// Built when read: a function that never reads KEY_* (the token function) neither builds nor bundles it.
const keyLifecycleVariables = () =>
  variables({
    MASKINPORTEN_ADMIN_URL: upstreamUrl("MASKINPORTEN_ADMIN_URL"),
    KEY_EXPIRY_WARN_DAYS: integer("KEY_EXPIRY_WARN_DAYS", 1, 365, 30),
    KEY_AUTO_RENEW: word("KEY_AUTO_RENEW", ["true", "false"], '"true" or "false"', "false"),
    KEY_ADMIN_CLIENT: text,
    KEY_ADMIN_CLIENT_ID: text,
    KEY_ADMIN_SIGNING_KEY: keyRef("KEY_ADMIN_SIGNING_KEY"),
    KEY_ADMIN_SIGNING_KID: kid("KEY_ADMIN_SIGNING_KID"),
  });

/** The key lifecycle variables once each is valid on its own. */
type KeyLifecycleValues = ValuesOf<ReturnType<typeof keyLifecycleVariables>>;

/** Digdir's self-service API hosts per environment (the registered keys of a client). */
const SELF_SERVICE_URLS = {
  test: "https://api.test.samarbeid.digdir.no",
  prod: "https://api.samarbeid.digdir.no",
} as const;

export interface KeyLifecycleConfig {
  /** Self-service API base URL, without a trailing slash. */
  adminUrl: string;
  /** A signing key with fewer days left than this is reported (exit 1, alarm). */
  warnDays: number;
  /** The scheduled key watch renews a key under warnDays by itself. */
  autoRenew: boolean;
  /** The client whose token manages every client's keys; absent: each client manages its own. */
  adminClient?: string | undefined;
  /**
   * The admin client KEY_ADMIN_CLIENT_ID and KEY_ADMIN_SIGNING_* define apart from the serving clients; only
   * loadKeyConfig reads it and only the key lifecycle (lib/keys/setup.ts) signs with it. The token function's
   * loadConfig never reads KEY_*, and serverless.yml sets KEY_ADMIN_* on the key watch alone.
   */
  separateAdminClient?: ClientConfig | undefined;
}

/** The default name of an admin client defined by KEY_ADMIN_CLIENT_ID. */
const SEPARATE_ADMIN_CLIENT_NAME = "admin";

/** What is wrong with the admin client variables once the clients are known, one line each. */
function adminClientProblems(e: KeyLifecycleValues, clients: readonly ClientConfig[]): string[] {
  if (e.KEY_ADMIN_CLIENT_ID === undefined) {
    if (e.KEY_ADMIN_SIGNING_KEY !== undefined) {
      return ["KEY_ADMIN_SIGNING_KEY: set only with KEY_ADMIN_CLIENT_ID (the admin client it signs for)"];
    }
    const admin = e.KEY_ADMIN_CLIENT;
    if (admin === undefined || clients.some((c) => c.name === admin)) return [];
    return [
      `KEY_ADMIN_CLIENT: no configured client is named "${admin}" (configured: ${clients.map((c) => c.name).join(", ")})`,
    ];
  }
  const lines: string[] = [];
  if (e.KEY_ADMIN_SIGNING_KEY === undefined) {
    lines.push("KEY_ADMIN_SIGNING_KEY: required with KEY_ADMIN_CLIENT_ID (the admin client's own key)");
  }
  const name = e.KEY_ADMIN_CLIENT ?? SEPARATE_ADMIN_CLIENT_NAME;
  if (clients.some((c) => c.name === name)) {
    lines.push(
      `KEY_ADMIN_CLIENT: "${name}" is a serving client; an admin client defined by KEY_ADMIN_CLIENT_ID needs a name of its own`,
    );
  }
  return lines;
}

/** The admin client KEY_ADMIN_CLIENT_ID and KEY_ADMIN_SIGNING_* define, when they do; never a serving client. */
function separateAdminClient(e: KeyLifecycleValues): ClientConfig | undefined {
  if (e.KEY_ADMIN_CLIENT_ID === undefined || e.KEY_ADMIN_SIGNING_KEY === undefined) return undefined;
  return {
    name: e.KEY_ADMIN_CLIENT ?? SEPARATE_ADMIN_CLIENT_NAME,
    clientId: e.KEY_ADMIN_CLIENT_ID,
    signing: { key: e.KEY_ADMIN_SIGNING_KEY, kid: e.KEY_ADMIN_SIGNING_KID, alg: "RS256" },
  };
}

/**
 * The key lifecycle's configuration: the admin client checked against the clients once they are read, the
 * self-service host by default the environment's.
 */
export function readKeyLifecycle(
  env: Env,
  maskinporten: Read<MaskinportenEnvironment>,
  clients: Read<readonly ClientConfig[]>,
): Read<KeyLifecycleConfig> {
  const read = keyLifecycleVariables()(env);
  if ("errors" in read) return read;
  const e = read.value;
  return given(clients, (known) => {
    const problems = adminClientProblems(e, known);
    if (problems.length > 0) return { errors: problems };
    const separate = separateAdminClient(e);
    return given(maskinporten, (m) => ({
      value: {
        adminUrl: (e.MASKINPORTEN_ADMIN_URL ?? SELF_SERVICE_URLS[m.env]).replace(/\/+$/, ""),
        warnDays: e.KEY_EXPIRY_WARN_DAYS,
        autoRenew: e.KEY_AUTO_RENEW === "true",
        adminClient: separate?.name ?? e.KEY_ADMIN_CLIENT,
        separateAdminClient: separate,
      },
    }));
  });
}
