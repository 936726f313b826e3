// Test support: the Maskinporten emulator with the broker's client and key registered, token handlers over it, and their events.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { apiGatewayEvent, type CallerIdentity, lambdaContext } from "../../dev/api-gateway-event.ts";
import {
  type EmulatorOptions,
  type MaskinportenEmulator,
  startMaskinportenEmulator,
} from "../../dev/maskinporten-emulator.ts";
import type { LambdaHandler } from "../../functions/http.ts";
import { createTokenHandler } from "../../functions/token.ts";
import { type Broker, type BrokerDeps, createBroker, type PrebuiltParts } from "../../lib/broker/index.ts";
import { loadConfig } from "../../lib/config/index.ts";
import { FileSigner } from "../../lib/signer/file.ts";
import type { Signer, SigningKey } from "../../lib/signer/signer.ts";
import { keyDirectory, keyFileText, newKey } from "./signer.ts";

export const ACCOUNT = "111122223333";
const CLIENT_ID = "broker-client";
const CLIENT_ORG = "974760673";
export const CONSUMER_ORG = "991825827";
export const SYSTEMUSER_ORG = "310000000";
const KID = "broker-key-1";
/** Scopes the emulator grants the broker's client. */
export const CLIENT_SCOPES = [
  "skatteetaten:mva",
  "skatteetaten:a-meldinger/les",
  "skatteetaten:inntektsmottak",
  "nav:aareg/v1/arbeidsforhold",
  "altinn:x",
];

const PAYROLL_SCOPES = [
  "skatteetaten:mva",
  "skatteetaten:a-meldinger/*",
  "skatteetaten:inntektsmottak",
  "nav:aareg/v1/arbeidsforhold",
  "bench:*",
];

/** payroll-* asks both for its own organisation and for CONSUMER_ORG: two rules. */
const TEST_POLICY = {
  rules: [
    { principal: `arn:aws:iam::${ACCOUNT}:role/payroll-*`, scopes: PAYROLL_SCOPES },
    {
      principal: `arn:aws:iam::${ACCOUNT}:role/payroll-*`,
      scopes: PAYROLL_SCOPES,
      consumer_orgs: [CONSUMER_ORG],
    },
    {
      principal: `arn:aws:iam::${ACCOUNT}:role/altinn-svc`,
      scopes: ["altinn:*"],
      systemuser_orgs: [SYSTEMUSER_ORG],
    },
  ],
};

/** An assumed-role caller of the test account. */
export function roleCaller(role: string, session = "i-0abc"): CallerIdentity {
  return {
    accessKey: "ASIAEXAMPLE",
    accountId: ACCOUNT,
    caller: `AROAEXAMPLE:${session}`,
    userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`,
  };
}

export interface EventOptions {
  /** Defaults to a payroll-svc role session; null for a request without an IAM identity. */
  identity?: CallerIdentity | null;
  contentType?: string | null;
  /** Raw body text; otherwise `body` is JSON-encoded. */
  raw?: string;
}

/** A POST /token event as API Gateway's aws_iam authorizer delivers it. */
export function tokenEvent(body: unknown, options: EventOptions = {}): APIGatewayProxyEvent {
  const contentType = options.contentType === undefined ? "application/json" : options.contentType;
  return apiGatewayEvent({
    method: "POST",
    path: "/token",
    resource: "/token",
    query: new URLSearchParams(),
    headers: contentType === null ? {} : { "Content-Type": contentType },
    body: options.raw ?? JSON.stringify(body),
    sourceIp: "10.0.0.7",
    identity: options.identity === undefined ? roleCaller("payroll-svc") : options.identity,
    vpceId: "vpce-0123456789abcdef0",
  });
}

/** Registers the broker's client at the emulator with the signer's key: CLIENT_SCOPES plus `moreScopes`. */
export async function registerBrokerClient(
  emulator: MaskinportenEmulator,
  signer: Signer,
  moreScopes: readonly string[] = [],
): Promise<void> {
  emulator.registerClient({
    clientId: CLIENT_ID,
    orgNumber: CLIENT_ORG,
    jwks: [(await signer.current()).jwk],
    scopes: [...CLIENT_SCOPES, ...moreScopes],
    delegations: [{ consumerOrg: CONSUMER_ORG, scopes: ["skatteetaten:mva"] }],
    systemUsers: [{ orgNumber: SYSTEMUSER_ORG }],
  });
}

export interface BrokerFixture {
  emulator: MaskinportenEmulator;
  /** Configuration variables pointing at the emulator, the key file and TEST_POLICY. */
  env: Record<string, string>;
  /** A FileSigner over the key file, kid KID. */
  signer: FileSigner;
  /** The private key as written to disk, to assert it never leaks. */
  privateKeyText: string;
  close(): Promise<void>;
}

/** Starts the emulator (options passed through), writes an RSA key, registers the client with its public half. */
export async function startBrokerFixture(options: EmulatorOptions = {}): Promise<BrokerFixture> {
  const dir = await keyDirectory();
  const privateKeyText = keyFileText(newKey(), "pem");
  const keyPath = await dir.write("signing-key.pem", privateKeyText);
  const signer = await FileSigner.load(keyPath, { alg: "RS256", kid: KID });
  const emulator = await startMaskinportenEmulator(options);
  await registerBrokerClient(emulator, signer);
  return {
    emulator,
    signer,
    privateKeyText,
    env: {
      MASKINPORTEN_ENV: "test",
      MASKINPORTEN_ISSUER: emulator.issuer,
      MASKINPORTEN_TOKEN_URL: emulator.tokenUrl,
      ALTINN_EXCHANGE_URL: emulator.altinnExchangeUrl,
      MASKINPORTEN_CLIENT_ID: CLIENT_ID,
      SIGNING_KEY: `file:${keyPath}`,
      SIGNING_KID: KID,
      POLICY: JSON.stringify(TEST_POLICY),
    },
    async close() {
      await emulator.close();
      await dir.remove();
    },
  };
}

/** A broker (empty cache) configured by the fixture's environment plus `env`, with any parts the test built. */
function fixtureBroker(
  fixture: Pick<BrokerFixture, "env">,
  env: Record<string, string> = {},
  deps: BrokerDeps = {},
  prebuilt: Partial<PrebuiltParts> = {},
): Promise<Broker> {
  return createBroker(loadConfig({ ...fixture.env, ...env }), deps, prebuilt);
}

/** The token handler around a fresh fixture broker. */
export function fixtureHandler(
  fixture: Pick<BrokerFixture, "env">,
  env: Record<string, string> = {},
  deps: BrokerDeps = {},
  prebuilt: Partial<PrebuiltParts> = {},
): LambdaHandler {
  return createTokenHandler(fixtureBroker(fixture, env, deps, prebuilt));
}

export interface Invocation {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  /** Wall time the handler took, ms. */
  elapsedMs: number;
}

/** Calls the handler with a POST /token body, as the default caller unless told; parses the JSON answer. */
export async function invoke(
  handler: LambdaHandler,
  body: unknown,
  options: EventOptions = {},
): Promise<Invocation> {
  const started = performance.now();
  const response = await handler(tokenEvent(body, options), lambdaContext("fixture-token"));
  const elapsedMs = performance.now() - started;
  const headers = Object.fromEntries(Object.entries(response.headers ?? {}).map(([k, v]) => [k, String(v)]));
  return {
    status: response.statusCode,
    headers,
    body: JSON.parse(response.body) as Record<string, unknown>,
    elapsedMs,
  };
}

export interface CountingSigner extends Signer {
  /** Signatures made so far (every grant is one). */
  readonly signs: number;
  /** Makes the next `n` signatures fail like an unreachable KMS. */
  failNext(n: number): void;
}

/** A signer that counts the signatures it makes, and can be told to fail. */
export function countingSigner(inner: Signer): CountingSigner {
  let signs = 0;
  let failures = 0;
  return {
    get signs() {
      return signs;
    },
    failNext(n) {
      failures = n;
    },
    async current(): Promise<SigningKey> {
      const key = await inner.current();
      return {
        ...key,
        async sign(input) {
          if (failures > 0) {
            failures--;
            throw Object.assign(new Error("KMS unreachable"), { name: "KMSInternalException" });
          }
          signs++;
          return key.sign(input);
        },
      };
    },
  };
}

export interface ControlledBrokerOptions extends EmulatorOptions {
  /** Fixture environment overrides, e.g. TOKEN_REFRESH_AHEAD_SECONDS. */
  env?: Record<string, string>;
  /** Wraps the fetch the Maskinporten client uses (gates, grant capture). */
  wrapFetch?: (inner: typeof fetch) => typeof fetch;
}

/** A fixture with one broker whose signer (counted, can fail), monotonic clock and retry waits the test controls. */
export interface ControlledBroker extends Omit<BrokerFixture, "signer"> {
  broker: Broker;
  /** Calls the POST /token handler with an API Gateway event. */
  call(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult>;
  /** The signer the broker signs with: the fixture key, counted. */
  signer: CountingSigner;
  /** Moves the broker's monotonic clock (not the wall clock) forward. */
  advance(seconds: number): void;
}

export async function startControlledBroker(
  options: ControlledBrokerOptions = {},
): Promise<ControlledBroker> {
  const { env, wrapFetch, ...emulatorOptions } = options;
  const fixture = await startBrokerFixture(emulatorOptions);
  const signer = countingSigner(fixture.signer);
  let offsetMs = 0;
  const broker = await fixtureBroker(
    fixture,
    { TOKEN_CACHE_MAX_ENTRIES: "100", UPSTREAM_TIMEOUT_MS: "2000", ...env },
    {
      monotonic: () => performance.now() + offsetMs,
      upstream: {
        sleep: async () => undefined,
        ...(wrapFetch === undefined ? {} : { fetch: wrapFetch(globalThis.fetch) }),
      },
    },
    { signer },
  );
  const handler = createTokenHandler(Promise.resolve(broker));
  return {
    ...fixture,
    broker,
    call: (event) => handler(event, lambdaContext("token")),
    signer,
    advance(seconds) {
      offsetMs += seconds * 1000;
    },
  };
}

/** The HMAC key of startPidBroker's pseudonyms. */
export const FIXTURE_PSEUDONYM_KEY = "9f1c2a7d4be5a6c3d8e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2";

/** A controlled broker under `policy` with a pid pseudonym key in a file: what a policy with `pid: true` needs. */
export async function startPidBroker(policy: unknown): Promise<ControlledBroker> {
  const keys = await keyDirectory();
  const keyPath = await keys.write("pid-pseudonym.key", FIXTURE_PSEUDONYM_KEY);
  const broker = await startControlledBroker({
    env: { POLICY: JSON.stringify(policy), PID_PSEUDONYM_KEY: `file:${keyPath}` },
  });
  return {
    ...broker,
    async close() {
      await broker.close();
      await keys.remove();
    },
  };
}
