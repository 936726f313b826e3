// The zip `npm run package` wrote, run as Lambda runs it (child `node`, SDK from a runtime stand-in): /token end to end.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiGatewayEvent } from "../../dev/api-gateway-event.ts";
import { type MaskinportenEmulator, startMaskinportenEmulator } from "../../dev/maskinporten-emulator.ts";
import { createKmsKey, kmsClient, kmsPublicKey, motoEndpoint } from "../support/aws.ts";
import {
  type FunctionOptions,
  InvocationError,
  type LambdaFunction,
  type LambdaTask,
  startFunction,
  unpackTask,
} from "./lambda-runtime.ts";
import { type PackagedService, packageService } from "./package-service.ts";

const FILE_CLIENT_ID = "artifact-test-client";
const FILE_KID = "artifact-test-key";
const KMS_CLIENT_ID = "artifact-test-kms-client";
const KMS_KID = "artifact-test-kms-key";
const SCOPE = "skatteetaten:inntektsmottak";
// policy.example.json (bundled in the zip) lets arn:aws:iam::111122223333:role/payroll-* have SCOPE.
const ALLOWED = "arn:aws:sts::111122223333:assumed-role/payroll-svc/run-42";
const NOT_ALLOWED = "arn:aws:sts::111122223333:assumed-role/marketing-svc/run-7";

let packaged: PackagedService;
let withRuntimeSdk: LambdaTask;
let withoutSdk: LambdaTask;
let emulator: MaskinportenEmulator;
let fileKeyEnv: Record<string, string>;
let fileKeyFunction: LambdaFunction;

function tokenEvent(assumedRoleArn: string): APIGatewayProxyEvent {
  const [, , , , account = "", roleAndSession = ""] = assumedRoleArn.split(":");
  return apiGatewayEvent({
    method: "POST",
    path: "/token",
    resource: "/token",
    query: new URLSearchParams(),
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ scope: SCOPE }),
    sourceIp: "10.0.1.23",
    identity: {
      accessKey: "ASIAARTIFACTTEST",
      accountId: account,
      caller: `AROAARTIFACTTEST:${roleAndSession.split("/").at(-1)}`,
      userArn: assumedRoleArn,
    },
    vpceId: "vpce-0123456789abcdef0",
    stage: "dev",
  });
}

const signingJwk = (publicKey: KeyObject, kid: string) => ({
  ...publicKey.export({ format: "jwk" }),
  kid,
  alg: "RS256",
  use: "sig",
});

/** The deployed environment with a fresh KMS key in moto, its public JWK registered at the emulator. */
async function kmsKeyEnv(): Promise<Record<string, string>> {
  const kms = kmsClient();
  const key = await createKmsKey(kms);
  emulator.registerClient({
    clientId: KMS_CLIENT_ID,
    jwks: [signingJwk(await kmsPublicKey(kms, key.keyId), KMS_KID)],
    scopes: [SCOPE],
  });
  return {
    ...fileKeyEnv,
    MASKINPORTEN_CLIENT_ID: KMS_CLIENT_ID,
    SIGNING_KEY: `kms:${key.arn}`,
    SIGNING_KID: KMS_KID,
    // What the Lambda role's session would provide; here, the suite's moto server.
    AWS_ENDPOINT_URL: motoEndpoint(),
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? "",
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? "",
  };
}

function tokenFunction(env: Record<string, string>): FunctionOptions {
  return { handler: "functions/token.handler", functionName: "maskinporten-broker-dev-token", env };
}

/** Starts the function in `task`, answers one allowed /token event, and stops it again. */
async function invokeOnce(task: LambdaTask, env: Record<string, string>): Promise<APIGatewayProxyResult> {
  const fn = await startFunction(task, tokenFunction(env));
  try {
    return await fn.invoke(tokenEvent(ALLOWED));
  } finally {
    await fn.stop();
  }
}

beforeAll(async () => {
  packaged = await packageService();
  const zip = join(packaged.output, "token.zip");
  withRuntimeSdk = unpackTask(zip, { runtimeSdk: true });
  withoutSdk = unpackTask(zip, { runtimeSdk: false });

  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyFile = join(packaged.dir, `${FILE_KID}.pem`);
  writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  emulator = await startMaskinportenEmulator({ host: "127.0.0.1", port: 0 });
  emulator.registerClient({
    clientId: FILE_CLIENT_ID,
    jwks: [signingJwk(publicKey, FILE_KID)],
    scopes: [SCOPE],
  });

  // The deployed environment (NODE_OPTIONS and the relative POLICY_FILE included: the child's cwd is the task
  // root, as /var/task is on Lambda), with the AWS key swapped for a file key and Maskinporten for the emulator.
  const fn = packaged.template.Resources.TokenLambdaFunction?.Properties as {
    Environment: { Variables: Record<string, string> };
  };
  fileKeyEnv = {
    ...fn.Environment.Variables,
    AWS_REGION: "eu-north-1",
    MASKINPORTEN_CLIENT_ID: FILE_CLIENT_ID,
    MASKINPORTEN_ISSUER: emulator.issuer,
    MASKINPORTEN_TOKEN_URL: emulator.tokenUrl,
    SIGNING_KEY: `file:${keyFile}`,
    SIGNING_KID: FILE_KID,
  };
  fileKeyFunction = await startFunction(withRuntimeSdk, tokenFunction(fileKeyEnv));
}, 240_000);

afterAll(async () => {
  await fileKeyFunction?.stop();
  await emulator?.close();
  withRuntimeSdk?.remove();
  withoutSdk?.remove();
  packaged?.remove();
});

describe("the packaged token function", () => {
  it("is one ESM bundle with its source map and the policy file: no sources, no node_modules", () => {
    expect(withRuntimeSdk.entries.sort()).toEqual([
      "functions/token.mjs",
      "functions/token.mjs.map",
      "policy.example.json",
    ]);
  });

  it("answers a /token event with an access token from Maskinporten (the emulator)", async () => {
    const response = await fileKeyFunction.invoke(tokenEvent(ALLOWED));
    expect(response.statusCode, response.body).toBe(200);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: "Bearer", scope: SCOPE });
    expect(typeof body.access_token).toBe("string");
    expect(body.expires_in).toBeGreaterThanOrEqual(30);
    const grants = emulator.acceptedGrants.filter((grant) => grant.iss === FILE_CLIENT_ID);
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ scope: SCOPE });
  });

  it("applies the bundled policy: a principal it does not name is denied", async () => {
    const response = await fileKeyFunction.invoke(tokenEvent(NOT_ALLOWED));
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body)).toMatchObject({ code: "access_denied" });
    expect(emulator.acceptedGrants.filter((grant) => grant.iss === FILE_CLIENT_ID)).toHaveLength(1);
  });

  it("fails an invocation with a stack trace that names the TypeScript sources, without --enable-source-maps", async () => {
    expect(fileKeyEnv.NODE_OPTIONS ?? "").not.toContain("--enable-source-maps");
    const fn = await startFunction(
      withRuntimeSdk,
      tokenFunction({ ...fileKeyEnv, MASKINPORTEN_ENV: "staging" }),
    );
    try {
      const error = await fn.invoke(tokenEvent(ALLOWED)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvocationError);
      const stack = (error as InvocationError).handlerStack ?? "";
      expect(stack).toMatch(/^ConfigError: Invalid configuration/);
      // Where the error was made: the configuration module's own line, as the bundle's map names it.
      expect(stack).toMatch(/\n {4}at .*\/lib\/config\/index\.ts:\d+:\d+\)?\n/);
      expect(stack).not.toContain("token.mjs:");
    } finally {
      await fn.stop();
    }
  });

  it("names three bad variables at once in the one error it fails with, each bad value echoed", async () => {
    const grantsBefore = emulator.acceptedGrants.length;
    const fn = await startFunction(
      withRuntimeSdk,
      tokenFunction({
        ...fileKeyEnv,
        MASKINPORTEN_ENV: "prodd",
        MASKINPORTEN_CLIENT_ID: "   ",
        TOKEN_CACHE_MAX_ENTRIES: "abc",
      }),
    );
    try {
      const error = await fn.invoke(tokenEvent(ALLOWED)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvocationError);
      const lines = ((error as InvocationError).handlerStack ?? "").split("\n    at ")[0]?.split("\n") ?? [];
      expect(lines).toEqual([
        "ConfigError: Invalid configuration:",
        '  MASKINPORTEN_ENV: expected "test" or "prod", got "prodd"',
        '  TOKEN_CACHE_MAX_ENTRIES: expected an integer from 1 to 1000000, got "abc"',
        "  MASKINPORTEN_CLIENT_ID: expected the Maskinporten client id (or CLIENTS / CLIENTS_FILE for several clients)",
      ]);
      expect(emulator.acceptedGrants).toHaveLength(grantsBefore);
    } finally {
      await fn.stop();
    }
  });

  it("loads the AWS SDK only for an AWS key source: a file key works without the runtime's copy", async () => {
    const response = await invokeOnce(withoutSdk, fileKeyEnv);
    expect(response.statusCode, response.body).toBe(200);
  });

  it("leaves the AWS SDK to the runtime: without its copy a kms: key cannot be used", async () => {
    const response = await invokeOnce(withoutSdk, await kmsKeyEnv());
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toMatchObject({ code: "internal_error" });
    expect(emulator.acceptedGrants.filter((grant) => grant.iss === KMS_CLIENT_ID)).toHaveLength(0);
  });

  it("signs with a KMS key (moto) through the runtime's AWS SDK and gets a token", async () => {
    const response = await invokeOnce(withRuntimeSdk, await kmsKeyEnv());
    expect(response.statusCode, response.body).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ token_type: "Bearer", scope: SCOPE });
    // The emulator verified the grant against the KMS key's public half: KMS signed it.
    const grants = emulator.acceptedGrants.filter((grant) => grant.iss === KMS_CLIENT_ID);
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ scope: SCOPE });
  });
});
