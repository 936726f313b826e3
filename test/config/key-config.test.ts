// The key watch's configuration: the environment, the clients and the key lifecycle, and nothing of the token function.
import { describe, expect, it } from "vitest";
import { loadKeyConfig } from "../../lib/config/index.ts";
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
