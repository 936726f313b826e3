// The key lifecycle's configuration (self-service API, key watch, admin client) from its validated variables.
import type { ClientConfig } from "./clients.ts";
import type { SigningKeyRef } from "./signing.ts";

/** The key lifecycle variables once each is valid on its own (index.ts validates them). */
export interface KeyLifecycleValues {
  MASKINPORTEN_ADMIN_URL?: string | undefined;
  KEY_EXPIRY_WARN_DAYS: number;
  KEY_AUTO_RENEW: "true" | "false";
  KEY_ADMIN_CLIENT?: string | undefined;
  KEY_ADMIN_CLIENT_ID?: string | undefined;
  KEY_ADMIN_SIGNING_KEY?: SigningKeyRef | undefined;
  KEY_ADMIN_SIGNING_KID?: string | undefined;
}

/** Digdir's self-service API hosts per environment (the registered keys of a client). */
export const SELF_SERVICE_URLS = {
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
   * The admin client when KEY_ADMIN_CLIENT_ID defines it apart from the serving clients: only the key lifecycle
   * (key watch, `npm run keys`) loads it, so the token function never holds its key or its scopes.
   */
  separateAdminClient?: ClientConfig | undefined;
}

/** The default name of an admin client defined by KEY_ADMIN_CLIENT_ID. */
export const SEPARATE_ADMIN_CLIENT_NAME = "admin";

/**
 * What is wrong with the admin client variables once the clients are known, one line each (index.ts reports
 * them with every other problem).
 */
export function keyLifecycleProblems(e: KeyLifecycleValues, clients: readonly ClientConfig[]): string[] {
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
    signing: {
      key: e.KEY_ADMIN_SIGNING_KEY,
      ...(e.KEY_ADMIN_SIGNING_KID === undefined ? {} : { kid: e.KEY_ADMIN_SIGNING_KID }),
      alg: "RS256",
    },
  };
}

/** The key lifecycle's configuration from variables keyLifecycleProblems found nothing wrong with. */
export function keyLifecycleConfig(env: "test" | "prod", e: KeyLifecycleValues): KeyLifecycleConfig {
  const separate = separateAdminClient(e);
  const admin = separate?.name ?? e.KEY_ADMIN_CLIENT;
  return {
    adminUrl: (e.MASKINPORTEN_ADMIN_URL ?? SELF_SERVICE_URLS[env]).replace(/\/+$/, ""),
    warnDays: e.KEY_EXPIRY_WARN_DAYS,
    autoRenew: e.KEY_AUTO_RENEW === "true",
    adminClient: admin,
    separateAdminClient: separate,
  };
}
