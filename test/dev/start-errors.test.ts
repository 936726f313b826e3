// `npm start` refusing to start: every bad variable named at once with its value, every client's key problem named.
import { describe, expect, it } from "vitest";
import { startNpmStart } from "../support/npm-start.ts";

/** What `npm start` printed before it exited (startNpmStart rejects with the output when it exits). */
const refusal = (env: Record<string, string>) =>
  startNpmStart(env).then(
    () => {
      throw new Error("npm start started");
    },
    (error: Error) => error.message,
  );

/** An AWS credential chain with nothing in it: no keys (cleanEnv drops AWS_*), no files, no instance metadata. */
const NO_AWS_CREDENTIALS = {
  AWS_REGION: "eu-north-1",
  AWS_CONFIG_FILE: "/nonexistent/config",
  AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
  AWS_EC2_METADATA_DISABLED: "true",
};

describe("npm start with a bad configuration", () => {
  it("names five bad variables at once (the key lifecycle's too), each with its value, and exits 1", async () => {
    const output = await refusal({
      MASKINPORTEN_ENV: "prodd",
      TOKEN_CACHE_MAX_ENTRIES: "0",
      LOCAL_CLIENTS: "ten",
      PROBLEM_TYPE_BASE: "http://errors.example.no/",
      KEY_EXPIRY_WARN_DAYS: "0",
    });
    expect(output).toMatch(/^npm start exited with 1:/);
    expect(output).toContain("npm start failed: Invalid configuration:");
    expect(output).toContain('LOCAL_CLIENTS: expected a number of local clients from 1 to 9, got "ten"');
    expect(output).toContain('MASKINPORTEN_ENV: expected "test" or "prod", got "prodd"');
    expect(output).toContain('TOKEN_CACHE_MAX_ENTRIES: expected an integer from 1 to 1000000, got "0"');
    expect(output).toContain(
      'PROBLEM_TYPE_BASE: expected an absolute https URL ending in "/" or "#", got "http://errors.example.no/"',
    );
    // `npm run keys`, which npm start offers, reads it: named with the rest, not after the banner.
    expect(output).toContain('KEY_EXPIRY_WARN_DAYS: expected an integer from 1 to 365, got "0"');
    // With MASKINPORTEN_ENV set npm start fills in no client: that is named in the same breath, once.
    expect(output.split("MASKINPORTEN_CLIENT_ID: expected the Maskinporten client id")).toHaveLength(2);
  });

  it("SIGNING_KEY=kms:… without AWS credentials says signing_unavailable, no AWS credentials, not a network error", async () => {
    const output = await refusal({ SIGNING_KEY: "kms:alias/maskinporten-broker", ...NO_AWS_CREDENTIALS });
    expect(output).toMatch(/^npm start exited with 1:/);
    expect(output).toContain(
      "npm start failed: signing_unavailable: KMS was not called for the signing key alias/maskinporten-broker: no AWS credentials (",
    );
    expect(output).not.toContain("network error");
  });

  it("CLIENTS_FILE=clients.example.json without AWS credentials names both clients and says no AWS credentials", async () => {
    const output = await refusal({ CLIENTS_FILE: "clients.example.json", ...NO_AWS_CREDENTIALS });
    expect(output).toMatch(
      /signing_unavailable: client payroll: KMS was not called for the signing key \S+: no AWS credentials/,
    );
    expect(output).toMatch(
      /signing_unavailable: client vat: KMS was not called for the signing key \S+: no AWS credentials/,
    );
    expect(output).not.toContain("network error");
  });
});
