// Test support: the emulator with a registered client, a file key, and the environment a broker needs to use both.
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { APIGatewayProxyEvent } from "aws-lambda";
import type { LambdaHandler } from "../../functions/http.ts";
import { createTokenHandler } from "../../functions/token.ts";
import { type BrokerDeps, createBroker } from "../../lib/broker/index.ts";
import { loadConfig } from "../../lib/config/index.ts";
import { apiGatewayEvent, lambdaContext } from "../../lib/local/api-gateway-event.ts";
import {
  type EmulatorOptions,
  type MaskinportenEmulator,
  startMaskinportenEmulator,
} from "../../lib/local/maskinporten-emulator.ts";
import type { Signer, SigningKey } from "../../lib/signer/signer.ts";

export const FIXTURE_CLIENT_ID = "fixture-broker";
export const FIXTURE_KID = "fixture-key";
/** Scopes the emulator grants the fixture client. */
export const FIXTURE_SCOPES = [
  "skatteetaten:mva",
  "skatteetaten:inntektsmottak",
  "nav:aareg/v1/arbeidsforhold",
];
/** The role the fixture policy lets have every fixture scope (and any `bench:` scope). */
export const FIXTURE_ROLE = "arn:aws:iam::111122223333:role/payroll-svc";
export const FIXTURE_SESSION_ARN = "arn:aws:sts::111122223333:assumed-role/payroll-svc/run-1";

export interface BrokerFixture {
  emulator: MaskinportenEmulator;
  /** CONTRACT section 4 variables pointing at the emulator, the key file and an inline policy. */
  env: Record<string, string>;
  keyPath: string;
  close(): Promise<void>;
}

/** Starts the emulator (options passed through), writes an RSA key, registers its public half. */
export async function startBrokerFixture(options: EmulatorOptions = {}): Promise<BrokerFixture> {
  const dir = await mkdtemp(join(tmpdir(), "mp-broker-fixture-"));
  const keyPath = join(dir, "signing-key.pem");
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  await writeFile(keyPath, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  const emulator = await startMaskinportenEmulator({ host: "127.0.0.1", port: 0, ...options });
  emulator.registerClient({
    clientId: FIXTURE_CLIENT_ID,
    jwks: [{ ...publicKey.export({ format: "jwk" }), kid: FIXTURE_KID, alg: "RS256", use: "sig" }],
    scopes: FIXTURE_SCOPES,
  });
  const policy = {
    rules: [
      {
        principal: FIXTURE_ROLE,
        scopes: [...FIXTURE_SCOPES, "bench:*"],
        consumer_orgs: [],
        systemuser_orgs: [],
        resources: [],
      },
    ],
  };
  return {
    emulator,
    keyPath,
    env: {
      MASKINPORTEN_ENV: "test",
      MASKINPORTEN_ISSUER: emulator.issuer,
      MASKINPORTEN_TOKEN_URL: emulator.tokenUrl,
      MASKINPORTEN_CLIENT_ID: FIXTURE_CLIENT_ID,
      SIGNING_KEY: `file:${keyPath}`,
      SIGNING_KID: FIXTURE_KID,
      POLICY: JSON.stringify(policy),
    },
    async close() {
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The token handler around a fresh broker (empty cache) configured by the fixture's environment plus `env`. */
export function fixtureHandler(
  fixture: Pick<BrokerFixture, "env">,
  env: Record<string, string> = {},
  deps: BrokerDeps = {},
): LambdaHandler {
  return createTokenHandler(createBroker(loadConfig({ ...fixture.env, ...env }), deps));
}

export interface Invocation {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  /** Wall time the handler took, ms. */
  elapsedMs: number;
}

/** Calls the handler with a POST /token body, as the fixture role; parses the JSON answer. */
export async function invoke(handler: LambdaHandler, body: unknown): Promise<Invocation> {
  const started = performance.now();
  const response = await handler(tokenEvent(body), lambdaContext("fixture-token"));
  const elapsedMs = performance.now() - started;
  const headers = Object.fromEntries(Object.entries(response.headers ?? {}).map(([k, v]) => [k, String(v)]));
  return {
    status: response.statusCode,
    headers,
    body: JSON.parse(response.body) as Record<string, unknown>,
    elapsedMs,
  };
}

/** A POST /token event as API Gateway's aws_iam authorizer delivers it for `userArn`. */
export function tokenEvent(body: unknown, userArn = FIXTURE_SESSION_ARN): APIGatewayProxyEvent {
  return apiGatewayEvent({
    method: "POST",
    path: "/token",
    resource: "/token",
    query: new URLSearchParams(),
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    sourceIp: "10.0.1.23",
    identity: {
      accessKey: "ASIAFIXTURE",
      accountId: userArn.split(":")[4] ?? "",
      caller: `AROAFIXTURE:${userArn.split("/").at(-1) ?? ""}`,
      userArn,
    },
    vpceId: "vpce-0123456789abcdef0",
  });
}

/** A signer that counts the signatures it makes (every grant is one `sign`). */
export function countingSigner(inner: Signer): Signer & { readonly signs: number } {
  let signs = 0;
  return {
    get signs() {
      return signs;
    },
    async current(): Promise<SigningKey> {
      const key = await inner.current();
      return {
        alg: key.alg,
        header: key.header,
        jwk: key.jwk,
        keyRef: key.keyRef,
        sign(input) {
          signs++;
          return key.sign(input);
        },
      };
    },
  };
}
