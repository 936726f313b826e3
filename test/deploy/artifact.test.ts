// The zip `npm run package` wrote, not the sources: its token handler answers /token end to end.
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiGatewayEvent, lambdaContext } from "../../lib/local/api-gateway-event.ts";
import {
  type MaskinportenEmulator,
  startMaskinportenEmulator,
} from "../../lib/local/maskinporten-emulator.ts";
import { readZip } from "../../scripts/zip.ts";
import { type PackagedService, packageService } from "./package-service.ts";

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const CLIENT_ID = "artifact-test-client";
const KID = "artifact-test-key";
const SCOPE = "skatteetaten:inntektsmottak";
// policy.example.json (bundled in the zip) lets arn:aws:iam::111122223333:role/payroll-* have SCOPE.
const ALLOWED = "arn:aws:sts::111122223333:assumed-role/payroll-svc/run-42";
const NOT_ALLOWED = "arn:aws:sts::111122223333:assumed-role/marketing-svc/run-7";

let packaged: PackagedService;
let unzipped: string;
let entries: string[];
let emulator: MaskinportenEmulator;
let handler: Handler;

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

beforeAll(async () => {
  packaged = await packageService();
  // Outside the copy, so no node_modules above it: an import the bundle left external would fail here.
  unzipped = mkdtempSync(join(tmpdir(), "mp-broker-artifact-"));
  const zip = readZip(join(packaged.output, "token.zip"));
  entries = zip.map((entry) => entry.name);
  for (const entry of zip.filter((e) => !e.name.endsWith("/"))) {
    mkdirSync(dirname(join(unzipped, entry.name)), { recursive: true });
    writeFileSync(join(unzipped, entry.name), entry.read());
  }

  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyFile = join(packaged.dir, `${KID}.pem`);
  writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  emulator = await startMaskinportenEmulator({ host: "127.0.0.1", port: 0 });
  emulator.registerClient({
    clientId: CLIENT_ID,
    jwks: [{ ...publicKey.export({ format: "jwk" }), kid: KID, alg: "RS256", use: "sig" }],
    scopes: [SCOPE],
  });

  // The deployed environment, with the AWS key swapped for a file key and Maskinporten for the emulator.
  const fn = packaged.template.Resources.TokenLambdaFunction?.Properties as {
    Environment: { Variables: Record<string, string> };
  };
  const deployed = fn.Environment.Variables;
  Object.assign(process.env, {
    ...Object.fromEntries(Object.entries(deployed).filter(([name]) => name !== "NODE_OPTIONS")),
    MASKINPORTEN_CLIENT_ID: CLIENT_ID,
    MASKINPORTEN_ISSUER: emulator.issuer,
    MASKINPORTEN_TOKEN_URL: emulator.tokenUrl,
    SIGNING_KEY: `file:${keyFile}`,
    SIGNING_KID: KID,
    // Lambda resolves the relative path against its task root, /var/task; here, the unzipped artifact.
    POLICY_FILE: resolve(unzipped, deployed.POLICY_FILE ?? "missing"),
  });
  const module = (await import(pathToFileURL(join(unzipped, "functions/token.mjs")).href)) as {
    handler: Handler;
  };
  handler = module.handler;
}, 240_000);

afterAll(async () => {
  await emulator?.close();
  packaged?.remove();
  if (unzipped !== undefined) rmSync(unzipped, { recursive: true, force: true });
});

describe("the packaged token function", () => {
  it("is one self-contained ESM bundle with its source map and the policy file, no sources", () => {
    expect(entries.sort()).toEqual(["functions/token.mjs", "functions/token.mjs.map", "policy.example.json"]);
  });

  it("answers a /token event with an access token from Maskinporten (the emulator)", async () => {
    const response = await handler(tokenEvent(ALLOWED), lambdaContext("maskinporten-broker-dev-token"));
    expect(response.statusCode, response.body).toBe(200);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: "Bearer", scope: SCOPE });
    expect(typeof body.access_token).toBe("string");
    expect(body.expires_in).toBeGreaterThanOrEqual(30);
    expect(emulator.acceptedGrants).toHaveLength(1);
    expect(emulator.acceptedGrants[0]).toMatchObject({ iss: CLIENT_ID, scope: SCOPE });
  });

  it("applies the bundled policy: a principal it does not name is denied", async () => {
    const response = await handler(tokenEvent(NOT_ALLOWED), lambdaContext("maskinporten-broker-dev-token"));
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body)).toMatchObject({ code: "access_denied" });
    expect(emulator.acceptedGrants).toHaveLength(1);
  });
});
