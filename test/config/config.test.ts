import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/config/config-error.ts";
import {
  DEFAULT_PROBLEM_TYPE_BASE,
  loadConfig,
  parseSigningKeyRef,
  problemTypeBaseOf,
} from "../../lib/config/index.ts";
import { configErrorOf as messageOf } from "../support/config-error.ts";

const MINIMAL = {
  MASKINPORTEN_ENV: "test",
  MASKINPORTEN_CLIENT_ID: "client-1",
  SIGNING_KEY: "kms:alias/maskinporten",
  POLICY: '{"rules":[]}',
};

describe("loadConfig", () => {
  it("fills every default from the minimal environment", () => {
    expect(loadConfig(MINIMAL)).toEqual({
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
      policy: { kind: "inline", json: '{"rules":[]}' },
      cache: { maxEntries: 1000, refreshAheadSeconds: 15, refusalSeconds: 30 },
      grantsPerPrincipalPerMinute: 600,
      upstreamTimeoutMs: 3000,
      altinn: { exchangeUrl: "https://platform.tt02.altinn.no/authentication/api/v1/exchange/maskinporten" },
    });
  });

  it("takes a PROBLEM_TYPE_BASE ending in / or #, as given once trimmed", () => {
    for (const base of [
      "https://errors.example.no/broker/",
      "https://docs.example.no/api.html#",
      "https://x/",
    ]) {
      const env = { ...MINIMAL, PROBLEM_TYPE_BASE: ` ${base} ` };
      expect(() => loadConfig(env)).not.toThrow();
      expect(problemTypeBaseOf(env)).toBe(base);
    }
  });

  it("renders problems under docs/api.md's headings when PROBLEM_TYPE_BASE is unset, empty or refused", () => {
    for (const value of [undefined, "", "  ", "http://errors.example.no/"]) {
      expect(problemTypeBaseOf({ PROBLEM_TYPE_BASE: value })).toBe(DEFAULT_PROBLEM_TYPE_BASE);
    }
    expect(DEFAULT_PROBLEM_TYPE_BASE).toBe(
      "https://github.com/maskinporten-broker/maskinporten-broker/blob/main/docs/api.md#",
    );
  });

  it("picks production's issuer and endpoint, never ver2", () => {
    const { maskinporten } = loadConfig({ ...MINIMAL, MASKINPORTEN_ENV: "prod" });
    expect(maskinporten).toMatchObject({
      issuer: "https://maskinporten.no/",
      tokenUrl: "https://maskinporten.no/token",
    });
  });

  it("picks Altinn's exchange endpoint of the environment: TT02 for test, production for prod", () => {
    expect(loadConfig({ ...MINIMAL, MASKINPORTEN_ENV: "prod" }).altinn.exchangeUrl).toBe(
      "https://platform.altinn.no/authentication/api/v1/exchange/maskinporten",
    );
    expect(loadConfig(MINIMAL).altinn.exchangeUrl).toBe(
      "https://platform.tt02.altinn.no/authentication/api/v1/exchange/maskinporten",
    );
  });

  it("reads ALTINN_EXCHANGE_URL (https, or http to loopback) and PID_PSEUDONYM_KEY from each source", () => {
    const config = loadConfig({
      ...MINIMAL,
      ALTINN_EXCHANGE_URL: "http://127.0.0.1:9999/authentication/api/v1/exchange/maskinporten",
      PID_PSEUDONYM_KEY: "kms:alias/pid-pseudonym",
    });
    expect(config.altinn.exchangeUrl).toBe(
      "http://127.0.0.1:9999/authentication/api/v1/exchange/maskinporten",
    );
    expect(config.pidPseudonymKey).toEqual({ source: "kms", keyId: "alias/pid-pseudonym" });
    for (const [value, ref] of [
      ["file:/opt/pid.key", { source: "file", path: "/opt/pid.key" }],
      ["secretsmanager:pid-key", { source: "secretsmanager", secretId: "pid-key" }],
    ] as const) {
      expect(loadConfig({ ...MINIMAL, PID_PSEUDONYM_KEY: value }).pidPseudonymKey).toEqual(ref);
    }
    expect(loadConfig({ ...MINIMAL, PID_PSEUDONYM_KEY: "" }).pidPseudonymKey).toBeUndefined();
  });

  it("takes every override", () => {
    const config = loadConfig({
      ...MINIMAL,
      POLICY: undefined,
      MASKINPORTEN_ISSUER: "http://127.0.0.1:9999/",
      MASKINPORTEN_TOKEN_URL: "http://127.0.0.1:9999/token",
      SIGNING_KEY: "secretsmanager:arn:aws:secretsmanager:eu-north-1:111122223333:secret:mp-AbCdEf",
      SIGNING_KID: "broker-2026.01_a",
      SIGNING_ALG: "RS512",
      POLICY_FILE: "policy.json",
      TOKEN_CACHE_MAX_ENTRIES: "50",
      TOKEN_REFRESH_AHEAD_SECONDS: "0",
      UPSTREAM_TIMEOUT_MS: " 1500 ",
      REFUSAL_CACHE_SECONDS: "5",
      GRANTS_PER_PRINCIPAL_PER_MINUTE: "20",
    });
    expect(config).toMatchObject({
      maskinporten: { issuer: "http://127.0.0.1:9999/", tokenUrl: "http://127.0.0.1:9999/token" },
      clients: [
        {
          signing: {
            key: {
              source: "secretsmanager",
              secretId: "arn:aws:secretsmanager:eu-north-1:111122223333:secret:mp-AbCdEf",
            },
            kid: "broker-2026.01_a",
            alg: "RS512",
          },
        },
      ],
      policy: { kind: "file", path: "policy.json" },
      cache: { maxEntries: 50, refreshAheadSeconds: 0, refusalSeconds: 5 },
      grantsPerPrincipalPerMinute: 20,
      upstreamTimeoutMs: 1500,
    });
  });

  it("REFUSAL_CACHE_SECONDS=0 and GRANTS_PER_PRINCIPAL_PER_MINUTE=0 turn refusal memory and the grant budget off", () => {
    expect(
      loadConfig({ ...MINIMAL, REFUSAL_CACHE_SECONDS: "0", GRANTS_PER_PRINCIPAL_PER_MINUTE: "0" }),
    ).toMatchObject({ cache: { refusalSeconds: 0 }, grantsPerPrincipalPerMinute: 0 });
  });

  it("treats empty strings as unset", () => {
    expect(
      loadConfig({ ...MINIMAL, SIGNING_KID: "", SIGNING_ALG: "", UPSTREAM_TIMEOUT_MS: "" }),
    ).toMatchObject({
      clients: [{ signing: { alg: "RS256" } }],
      upstreamTimeoutMs: 3000,
    });
  });

  it.each([
    ["MASKINPORTEN_ENV", { MASKINPORTEN_ENV: "staging" }],
    ["MASKINPORTEN_ENV", { MASKINPORTEN_ENV: undefined }],
    ["MASKINPORTEN_ISSUER", { MASKINPORTEN_ISSUER: "test.maskinporten.no" }],
    ["MASKINPORTEN_TOKEN_URL", { MASKINPORTEN_TOKEN_URL: "ftp://x/token" }],
    ["MASKINPORTEN_TOKEN_URL", { MASKINPORTEN_TOKEN_URL: "http://maskinporten.example/token" }],
    ["MASKINPORTEN_ISSUER", { MASKINPORTEN_ISSUER: "http://10.0.0.5/" }],
    ["MASKINPORTEN_CLIENT_ID", { MASKINPORTEN_CLIENT_ID: undefined }],
    ["MASKINPORTEN_CLIENT_ID", { MASKINPORTEN_CLIENT_ID: "  " }],
    ["SIGNING_KEY", { SIGNING_KEY: undefined }],
    ["SIGNING_KEY", { SIGNING_KEY: "vault:abc" }],
    ["SIGNING_KEY", { SIGNING_KEY: "kms:" }],
    ["SIGNING_KID", { SIGNING_KID: "has space" }],
    ["SIGNING_ALG", { SIGNING_ALG: "ES256" }],
    ["SIGNING_ALG", { SIGNING_ALG: "PS256" }],
    ["TOKEN_CACHE_MAX_ENTRIES", { TOKEN_CACHE_MAX_ENTRIES: "0" }],
    ["TOKEN_CACHE_MAX_ENTRIES", { TOKEN_CACHE_MAX_ENTRIES: "ten" }],
    ["TOKEN_REFRESH_AHEAD_SECONDS", { TOKEN_REFRESH_AHEAD_SECONDS: "-1" }],
    ["UPSTREAM_TIMEOUT_MS", { UPSTREAM_TIMEOUT_MS: "1.5" }],
    ["UPSTREAM_TIMEOUT_MS", { UPSTREAM_TIMEOUT_MS: "60000" }],
    ["REFUSAL_CACHE_SECONDS", { REFUSAL_CACHE_SECONDS: "-1" }],
    ["REFUSAL_CACHE_SECONDS", { REFUSAL_CACHE_SECONDS: "3601" }],
    ["REFUSAL_CACHE_SECONDS", { REFUSAL_CACHE_SECONDS: "0.5" }],
    ["GRANTS_PER_PRINCIPAL_PER_MINUTE", { GRANTS_PER_PRINCIPAL_PER_MINUTE: "-1" }],
    ["GRANTS_PER_PRINCIPAL_PER_MINUTE", { GRANTS_PER_PRINCIPAL_PER_MINUTE: "many" }],
    ["ALTINN_EXCHANGE_URL", { ALTINN_EXCHANGE_URL: "http://platform.altinn.no/exchange" }],
    ["ALTINN_EXCHANGE_URL", { ALTINN_EXCHANGE_URL: "platform.altinn.no" }],
    ["PID_PSEUDONYM_KEY", { PID_PSEUDONYM_KEY: "hmac:abc" }],
    ["POLICY_FILE / POLICY", { POLICY: undefined }],
    ["POLICY_FILE / POLICY", { POLICY_FILE: "policy.json" }],
    ["PROBLEM_TYPE_BASE", { PROBLEM_TYPE_BASE: "http://errors.example.no/" }],
    ["PROBLEM_TYPE_BASE", { PROBLEM_TYPE_BASE: "/problems/" }],
    ["PROBLEM_TYPE_BASE", { PROBLEM_TYPE_BASE: "errors.example.no/problems/" }],
    ["PROBLEM_TYPE_BASE", { PROBLEM_TYPE_BASE: "https://errors.example.no/problems" }],
    ["PROBLEM_TYPE_BASE", { PROBLEM_TYPE_BASE: "https://errors.example.no/api.md#errors" }],
    ["PROBLEM_TYPE_BASE", { PROBLEM_TYPE_BASE: "https://errors.example.no/#a#" }],
    ["PROBLEM_TYPE_BASE", { PROBLEM_TYPE_BASE: "https://errors.example.no/?code=" }],
    ["PROBLEM_TYPE_BASE", { PROBLEM_TYPE_BASE: "https://errors.example.no/?a/" }],
    ["PROBLEM_TYPE_BASE", { PROBLEM_TYPE_BASE: "https://user@errors.example.no/" }],
    ["PROBLEM_TYPE_BASE", { PROBLEM_TYPE_BASE: "https://errors example.no/" }],
  ])("names %s when it is bad (%o)", (name, overrides) => {
    expect(messageOf({ ...MINIMAL, ...overrides })).toContain(`${name}:`);
  });

  it("names every bad variable at once", () => {
    const message = messageOf({
      MASKINPORTEN_ENV: "dev",
      SIGNING_KEY: "nope",
      SIGNING_ALG: "HS256",
      UPSTREAM_TIMEOUT_MS: "0",
      POLICY: "{}",
    });
    for (const name of [
      "MASKINPORTEN_ENV",
      "MASKINPORTEN_CLIENT_ID",
      "SIGNING_KEY",
      "SIGNING_ALG",
      "UPSTREAM_TIMEOUT_MS",
    ]) {
      expect(message).toContain(`${name}:`);
    }
  });

  it("names a bad clients document, the policy variables and a bad value together, each value echoed", () => {
    const message = messageOf({
      MASKINPORTEN_ENV: "prodd",
      CLIENTS: '{"clients": []}',
      POLICY: "{}",
      POLICY_FILE: "policy.json",
      TOKEN_CACHE_MAX_ENTRIES: "0",
      PROBLEM_TYPE_BASE: "http://errors.example.no/problems",
    });
    expect(message).toContain('MASKINPORTEN_ENV: expected "test" or "prod", got "prodd"');
    expect(message).toContain(
      'PROBLEM_TYPE_BASE: expected an absolute https URL ending in "/" or "#", got "http://errors.example.no/problems"',
    );
    expect(message).toContain("CLIENTS: ");
    expect(message).toContain("POLICY_FILE / POLICY: set one of them, not both");
    expect(message).toContain('TOKEN_CACHE_MAX_ENTRIES: expected an integer from 1 to 1000000, got "0"');
  });

  it("keeps a URL's user:password out of the message that echoes it", () => {
    const message = messageOf({
      ...MINIMAL,
      MASKINPORTEN_TOKEN_URL: "http://user:hunter2@example.com/token",
    });
    expect(message).toContain("MASKINPORTEN_TOKEN_URL: expected an https URL");
    expect(message).not.toContain("hunter2");
  });

  it("never echoes a key pasted where its reference belongs; an alias without its prefix is shown", () => {
    const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    const hex = "9f".repeat(32);
    const message = messageOf({ ...MINIMAL, SIGNING_KEY: pem, PID_PSEUDONYM_KEY: hex });
    expect(message).toContain("SIGNING_KEY: expected kms:<key id");
    expect(message).toContain("PID_PSEUDONYM_KEY: expected kms:<key id");
    expect(message).toContain("not shown: it may be key material");
    expect(message).not.toContain("MIIEvQ");
    expect(message).not.toContain(hex.slice(0, 16));
    expect(messageOf({ ...MINIMAL, SIGNING_KEY: "alias/maskinporten" })).toContain(
      'got "alias/maskinporten"',
    );
    expect(messageOf({ ...MINIMAL, SIGNING_KEY: "vault:secret/abc" })).toContain('got "vault:…"');
  });
});

describe("parseSigningKeyRef", () => {
  it("splits the source prefix from the reference, which may itself contain colons", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("kms", "secretsmanager", "file"),
        fc.stringMatching(/^[A-Za-z0-9/:_.-]{1,40}$/),
        (source, rest) => {
          const ref = parseSigningKeyRef(`${source}:${rest}`);
          expect(ref.source).toBe(source);
          expect(Object.values(ref)[1]).toBe(rest);
        },
      ),
    );
    expect(() => parseSigningKeyRef("alias/x")).toThrow(ConfigError);
  });
});
