// Test support: the token handlers over a real broker, a FileSigner (counted) and the strict Maskinporten emulator.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { createTokenHandler } from "../../functions/token.ts";
import { type Broker, createBroker } from "../../lib/broker/index.ts";
import type { Config } from "../../lib/config/index.ts";
import { apiGatewayEvent, type CallerIdentity, lambdaContext } from "../../lib/local/api-gateway-event.ts";
import {
  type MaskinportenEmulator,
  startMaskinportenEmulator,
} from "../../lib/local/maskinporten-emulator.ts";
import { FileSigner } from "../../lib/signer/file.ts";
import type { Signer } from "../../lib/signer/signer.ts";
import { keyDirectory, keyFileText, newKey } from "./signer.ts";

export const ACCOUNT = "111122223333";
export const CLIENT_ID = "broker-client";
export const CLIENT_ORG = "974760673";
export const CONSUMER_ORG = "991825827";
export const SYSTEMUSER_ORG = "310000000";

export const TEST_POLICY = {
  rules: [
    {
      principal: `arn:aws:iam::${ACCOUNT}:role/payroll-*`,
      scopes: ["skatteetaten:mva", "skatteetaten:a-meldinger/*"],
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
  identity?: CallerIdentity | null;
  contentType?: string | null;
  /** Raw body text; otherwise `body` is JSON-encoded. */
  raw?: string;
}

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

export interface RigOptions {
  expiresIn?: number;
  refreshAheadSeconds?: number;
  /** Wraps the fetch the Maskinporten client uses (gates, grant capture). */
  wrapFetch?: (inner: typeof fetch) => typeof fetch;
}

export interface Rig {
  emulator: MaskinportenEmulator;
  broker: Broker;
  /** Calls the POST /token handler with an API Gateway event. */
  call(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult>;
  /** Grants signed with the broker's key so far. */
  readonly signs: number;
  /** Makes the next `n` key uses fail like an unreachable KMS. */
  failSigning(n: number): void;
  /** Moves the broker's monotonic clock (not the wall clock) forward. */
  advance(seconds: number): void;
  /** The private key as written to disk, to assert it never leaks. */
  privateKeyText: string;
  close(): Promise<void>;
}

export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const emulator = await startMaskinportenEmulator({ expiresIn: options.expiresIn ?? 120 });
  const dir = await keyDirectory();
  const privateKeyText = keyFileText(newKey(), "pem");
  const path = await dir.write("key.pem", privateKeyText);
  const fileSigner = await FileSigner.load(path, { alg: "RS256", kid: "broker-key-1" });
  await dir.remove();
  const key = await fileSigner.current();
  emulator.registerClient({
    clientId: CLIENT_ID,
    orgNumber: CLIENT_ORG,
    jwks: [key.jwk],
    scopes: ["skatteetaten:mva", "skatteetaten:a-meldinger/les", "altinn:x"],
    delegations: [{ consumerOrg: CONSUMER_ORG, scopes: ["skatteetaten:mva"] }],
    systemUsers: [{ orgNumber: SYSTEMUSER_ORG, scopes: ["altinn:x"] }],
  });
  let signs = 0;
  let failures = 0;
  const signer: Signer = {
    current: async () => ({
      ...key,
      sign: async (input) => {
        if (failures > 0) {
          failures--;
          throw Object.assign(new Error("KMS unreachable"), { name: "KMSInternalException" });
        }
        signs++;
        return key.sign(input);
      },
    }),
  };
  let offsetMs = 0;
  const config: Config = {
    maskinporten: { env: "test", issuer: emulator.issuer, tokenUrl: emulator.tokenUrl, clientId: CLIENT_ID },
    signing: { key: { source: "file", path }, kid: "broker-key-1", alg: "RS256" },
    policy: { kind: "inline", json: JSON.stringify(TEST_POLICY) },
    cache: { maxEntries: 100, refreshAheadSeconds: options.refreshAheadSeconds ?? 15 },
    upstreamTimeoutMs: 2000,
  };
  const broker = await createBroker(config, {
    signer,
    monotonic: () => performance.now() + offsetMs,
    upstream: {
      sleep: async () => undefined,
      ...(options.wrapFetch === undefined ? {} : { fetch: options.wrapFetch(globalThis.fetch) }),
    },
  });
  const handler = createTokenHandler(Promise.resolve(broker));
  return {
    emulator,
    broker,
    call: (event) => handler(event, lambdaContext("token")),
    get signs() {
      return signs;
    },
    failSigning(n) {
      failures = n;
    },
    advance(seconds) {
      offsetMs += seconds * 1000;
    },
    privateKeyText,
    close: () => emulator.close(),
  };
}
