// `npm start` with a KMS key, a Secrets Manager key, another region or Maskinporten test: every printed line works as printed.
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MaskinportenEmulator, startMaskinportenEmulator } from "../../dev/maskinporten-emulator.ts";
import { createSigner } from "../../lib/signer/index.ts";
import { createKmsKey, createSecret, kmsClient, motoEndpoint, secretsClient } from "../support/aws.ts";
import { type NpmStart, printedJson, runPrinted, startNpmStart } from "../support/npm-start.ts";

/** The AWS variables a newcomer puts in front of `npm start` to reach moto: not exported, so not inherited. */
const awsPrefix = () => ({
  AWS_ENDPOINT_URL: motoEndpoint(),
  AWS_REGION: "eu-north-1",
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
});

const claimsOf = (accessToken: string) =>
  JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;

const pem = () =>
  generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" });

/**
 * What docs/local.md has a Maskinporten-test user write: a key file, and a policy.json of their own allowing the
 * local principal their client's scope. In a fresh temporary folder (`files`), removed by the caller.
 */
async function maskinportenTestFiles(
  prefix: string,
): Promise<{ files: string; keyPath: string; policy: string }> {
  const files = await mkdtemp(join(tmpdir(), prefix));
  const keyPath = join(files, "key.pem");
  await writeFile(keyPath, pem(), { mode: 0o600 });
  const policy = join(files, "policy.json");
  const principal = "arn:aws:iam::000000000000:role/local-service";
  await writeFile(policy, JSON.stringify({ rules: [{ principal, scopes: ["skatteetaten:mva"] }] }));
  return { files, keyPath, policy };
}

/** Runs the banner's curl, npm run token and npm run keys lines in a shell without any broker or AWS variable. */
function itAnswersEveryPrintedLine(start: () => NpmStart, clientId: string, keys = true): void {
  it("answers the printed curl command with a token", async () => {
    const { stdout } = await runPrinted(start().banner.curl);
    expect(claimsOf(JSON.parse(stdout).access_token)).toMatchObject({ client_id: clientId });
  });

  it("answers the printed npm run token line with a token", async () => {
    const { stdout } = await runPrinted(start().banner.token);
    expect(printedJson(stdout)).toMatchObject({ token_type: "Bearer", scope: "skatteetaten:mva" });
  });

  if (keys) {
    it("answers the printed key status command, with the AWS endpoint and credentials it started with", async () => {
      const { stdout } = await runPrinted(start().banner.keys ?? "missing");
      expect(JSON.parse(stdout)).toMatchObject({ client_id: clientId });
    });
  }
}

describe("SIGNING_KEY=kms:… npm start (the emulator with a KMS key)", () => {
  let started: NpmStart;
  beforeAll(async () => {
    const key = await createKmsKey(kmsClient());
    started = await startNpmStart({ ...awsPrefix(), SIGNING_KEY: `kms:${key.alias}` });
  }, 90_000);
  afterAll(() => started?.close());

  itAnswersEveryPrintedLine(() => started, "local-broker");
});

describe("SIGNING_KEY=secretsmanager:… npm start (the emulator with a Secrets Manager key)", () => {
  let started: NpmStart;
  beforeAll(async () => {
    const secret = await createSecret(secretsClient(), { private_key: pem(), kid: "local-secret-1" });
    started = await startNpmStart({ ...awsPrefix(), SIGNING_KEY: `secretsmanager:${secret}` });
  }, 90_000);
  afterAll(() => started?.close());

  itAnswersEveryPrintedLine(() => started, "local-broker");
});

describe("AWS_REGION=eu-west-1 MASKINPORTEN_ENV=test npm start (Maskinporten test, here an emulator standing in for it)", () => {
  const clientId = "11111111-2222-3333-4444-555555555555";
  let started: NpmStart;
  let maskinporten: MaskinportenEmulator;
  let files: string;
  beforeAll(async () => {
    const written = await maskinportenTestFiles("broker-mp-test-");
    files = written.files;
    const { keyPath, policy } = written;
    const { jwk } = await (
      await createSigner({ key: { source: "file", path: keyPath }, alg: "RS256", kid: "mp-test-1" })
    ).current();
    maskinporten = await startMaskinportenEmulator({ host: "127.0.0.1", port: 0 });
    maskinporten.registerClient({ clientId, jwks: [jwk], scopes: ["skatteetaten:mva"] });
    started = await startNpmStart(
      {
        MASKINPORTEN_ENV: "test",
        MASKINPORTEN_CLIENT_ID: clientId,
        SIGNING_KEY: `file:${keyPath}`,
        SIGNING_KID: "mp-test-1",
        POLICY_FILE: policy,
        MASKINPORTEN_ISSUER: maskinporten.issuer,
        MASKINPORTEN_TOKEN_URL: maskinporten.tokenUrl,
        AWS_REGION: "eu-west-1",
      },
      { keys: false },
    );
  }, 90_000);
  afterAll(async () => {
    await started?.close();
    await maskinporten?.close();
    await rm(files, { recursive: true, force: true });
  });

  it("prints the region it verifies signatures for in both lines", () => {
    expect(started.banner.curl).toContain('--aws-sigv4 "aws:amz:eu-west-1:execute-api"');
    expect(started.banner.token).toMatch(/ AWS_REGION='eu-west-1' npm run token -- /);
  });

  itAnswersEveryPrintedLine(() => started, clientId, false);
});

describe("MASKINPORTEN_ENV=test npm start as docs/local.md writes it, offline (no network but loopback)", () => {
  let started: NpmStart;
  let files: string;
  beforeAll(async () => {
    const written = await maskinportenTestFiles("broker-mp-offline-");
    files = written.files;
    const { keyPath, policy } = written;
    started = await startNpmStart(
      {
        MASKINPORTEN_ENV: "test",
        MASKINPORTEN_CLIENT_ID: "11111111-2222-3333-4444-555555555555",
        SIGNING_KEY: `file:${keyPath}`,
        SIGNING_KID: "mp-test-1",
        POLICY_FILE: policy,
      },
      { keys: false, offline: true },
    );
  }, 90_000);
  afterAll(async () => {
    await started?.close();
    await rm(files, { recursive: true, force: true });
  });

  const unreachable = "Maskinporten unavailable after 3 attempt(s) (last: network)";

  it("names Maskinporten test's token endpoint in its banner", () => {
    expect(started.output()).toContain("  Maskinporten: https://test.maskinporten.no/token\n");
  });

  it("answers the printed curl command with 503 upstream_unavailable and a Retry-After", async () => {
    const { stdout } = await started.run(`${started.banner.curl} -i`);
    expect(stdout).toMatch(/^HTTP\/1\.1 503 /);
    expect(stdout).toMatch(/^retry-after: \d+\r$/im);
    expect(JSON.parse(stdout.slice(stdout.indexOf("\r\n\r\n") + 4))).toMatchObject({
      code: "upstream_unavailable",
      detail: unreachable,
    });
  });

  it("answers the printed npm run token line with exit 1 and 503 upstream_unavailable", async () => {
    const failed = await started.run(started.banner.token).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`503 upstream_unavailable: ${unreachable}`);
  });
});
