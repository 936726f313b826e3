// The key watch's configuration: the environment, the clients and the key lifecycle, and nothing of the token function.
import { describe, expect, it } from "vitest";
import { loadConfig, loadKeyConfig } from "../../lib/config/index.ts";
import { configErrorOf } from "../support/config-error.ts";

const MINIMAL = {
  MASKINPORTEN_ENV: "test",
  MASKINPORTEN_CLIENT_ID: "client-1",
  SIGNING_KEY: "kms:alias/maskinporten",
};

const messageOf = (env: Record<string, string | undefined>): string => configErrorOf(env, loadKeyConfig);

describe("loadKeyConfig", () => {
  it("needs no policy and reads no token-function variable", () => {
    const config = loadKeyConfig({ ...MINIMAL, TOKEN_CACHE_MAX_ENTRIES: "0", POLICY_FILE: "a", POLICY: "b" });
    expect(config).toEqual({
      maskinporten: {
        env: "test",
        issuer: "https://test.maskinporten.no/",
        tokenUrl: "https://test.maskinporten.no/token",
      },
      clients: [
        {
          name: "default",
          clientId: "client-1",
          signing: { key: { source: "kms", keyId: "alias/maskinporten" }, alg: "RS256" },
        },
      ],
      upstreamTimeoutMs: 3000,
      keys: { adminUrl: "https://api.test.samarbeid.digdir.no", warnDays: 30, autoRenew: false },
    });
  });

  it("reads the key lifecycle variables: self-service host per environment, warn days, auto-renew, admin client", () => {
    expect(loadKeyConfig({ ...MINIMAL, MASKINPORTEN_ENV: "prod" }).keys.adminUrl).toBe(
      "https://api.samarbeid.digdir.no",
    );
    expect(
      loadKeyConfig({
        ...MINIMAL,
        MASKINPORTEN_ADMIN_URL: "http://127.0.0.1:8080/",
        KEY_EXPIRY_WARN_DAYS: "45",
        KEY_AUTO_RENEW: "true",
        KEY_ADMIN_CLIENT: "default",
      }).keys,
    ).toEqual({ adminUrl: "http://127.0.0.1:8080", warnDays: 45, autoRenew: true, adminClient: "default" });
    expect(messageOf({ ...MINIMAL, KEY_ADMIN_CLIENT: "admin" })).toContain(
      'KEY_ADMIN_CLIENT: no configured client is named "admin" (configured: default)',
    );
  });

  it.each([
    ["MASKINPORTEN_ADMIN_URL", { MASKINPORTEN_ADMIN_URL: "http://api.samarbeid.example" }],
    ["KEY_EXPIRY_WARN_DAYS", { KEY_EXPIRY_WARN_DAYS: "0" }],
    ["KEY_EXPIRY_WARN_DAYS", { KEY_EXPIRY_WARN_DAYS: "thirty" }],
    ["KEY_AUTO_RENEW", { KEY_AUTO_RENEW: "yes" }],
  ])("names %s when it is bad (%o)", (name, overrides) => {
    expect(messageOf({ ...MINIMAL, ...overrides })).toContain(`${name}:`);
  });

  it.each([
    ["KEY_EXPIRY_WARN_DAYS", { KEY_EXPIRY_WARN_DAYS: "0" }],
    ["KEY_ADMIN_CLIENT", { KEY_ADMIN_CLIENT: "admin" }],
    ["MASKINPORTEN_ADMIN_URL", { MASKINPORTEN_ADMIN_URL: "http://api.samarbeid.example" }],
  ])(
    "is alone in reading the key lifecycle: a bad %s stops loadKeyConfig, not the token functions' loadConfig",
    (name, bad) => {
      const tokenEnv = { ...MINIMAL, POLICY: '{"rules":[]}' };
      expect(loadConfig({ ...tokenEnv, ...bad })).toEqual(loadConfig(tokenEnv));
      expect(messageOf({ ...MINIMAL, ...bad })).toMatch(new RegExp(`^Invalid configuration:\\n  ${name}: `));
    },
  );

  it("names every bad variable it reads at once, the admin client among them", () => {
    const message = messageOf({
      ...MINIMAL,
      MASKINPORTEN_ENV: "prodd",
      UPSTREAM_TIMEOUT_MS: "0",
      KEY_AUTO_RENEW: "yes",
    });
    expect(message).toMatch(/^Invalid configuration:\n/);
    expect(message).toContain('MASKINPORTEN_ENV: expected "test" or "prod", got "prodd"');
    expect(message).toContain("UPSTREAM_TIMEOUT_MS:");
    expect(message).toContain("KEY_AUTO_RENEW:");
    expect(messageOf({ ...MINIMAL, KEY_ADMIN_CLIENT: "admin" })).toContain(
      'KEY_ADMIN_CLIENT: no configured client is named "admin" (configured: default)',
    );
  });
});
