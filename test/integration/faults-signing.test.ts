// KMS misbehaving, seen through the token handler: 503 signing_unavailable with Retry-After within a bounded time,
// no grant reaches Maskinporten, no failure cached. moto signs even with a disabled key, so disabled and throttled
// keys are raised with aws-sdk-client-mock and the SDK's own exception classes; the network failure is real.
import { createServer } from "node:net";
import { DisabledException, KMSClient, KMSServiceException, SignCommand } from "@aws-sdk/client-kms";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LambdaHandler } from "../../functions/http.ts";
import { createTokenHandler } from "../../functions/token.ts";
import { createBroker } from "../../lib/broker/index.ts";
import { loadConfig } from "../../lib/config/index.ts";
import { KmsSigner } from "../../lib/signer/kms.ts";
import { createKmsKey, kmsClient, type TestKmsKey } from "../support/aws.ts";
import {
  type BrokerFixture,
  CLIENT_SCOPES,
  fixtureHandler,
  invoke,
  startBrokerFixture,
} from "../support/broker-fixture.ts";

const CLIENT_ID = "kms-faults-client";
const SCOPE = "skatteetaten:mva";
/** The SDK's own retries (3 attempts, sub-second backoff) plus scheduling on a loaded machine. */
const SIGNING_BOUND_MS = 10_000;

let fixture: BrokerFixture;
let key: TestKmsKey;
let env: Record<string, string>;

beforeAll(async () => {
  fixture = await startBrokerFixture();
  key = await createKmsKey(kmsClient());
  const signer = await KmsSigner.load(key.alias, { alg: "RS256", client: kmsClient() });
  fixture.emulator.registerClient({
    clientId: CLIENT_ID,
    jwks: [(await signer.current()).jwk],
    scopes: CLIENT_SCOPES,
  });
  env = { MASKINPORTEN_CLIENT_ID: CLIENT_ID, SIGNING_KEY: `kms:${key.alias}` };
});
afterAll(async () => {
  await fixture.close();
});

/** A URL nothing listens on: a port the OS just handed out and took back. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

const calls = () => fixture.emulator.grantsReceived;

/** A handler whose broker signs with a real KmsSigner (moto), its client mockable. */
async function kmsHandler(): Promise<{ handler: LambdaHandler; client: KMSClient }> {
  const client = kmsClient();
  const signer = await KmsSigner.load(key.alias, { alg: "RS256", client });
  return { handler: fixtureHandler(fixture, env, {}, { signer }), client };
}

async function expectSigningUnavailable(handler: LambdaHandler): Promise<void> {
  const before = calls();
  const failed = await invoke(handler, { scope: SCOPE });
  expect(failed.status).toBe(503);
  expect(failed.body).toMatchObject({ status: 503, code: "signing_unavailable" });
  expect(failed.headers["Retry-After"]).toMatch(/^[1-9]\d*$/);
  expect(failed.elapsedMs).toBeLessThan(SIGNING_BOUND_MS);
  expect(calls() - before).toBe(0);
}

async function expectRecovered(handler: LambdaHandler): Promise<void> {
  const accepted = fixture.emulator.acceptedGrants.length;
  const answer = await invoke(handler, { scope: SCOPE });
  expect(answer.status).toBe(200);
  expect(answer.headers["X-Token-Cache"]).toBe("miss");
  expect(fixture.emulator.acceptedGrants.length).toBe(accepted + 1);
  expect(fixture.emulator.acceptedGrants.at(-1)).toMatchObject({ iss: CLIENT_ID });
}

describe("KMS faults through the token handler", () => {
  const failures = [
    {
      name: "throttling (ThrottlingException, unmodelled: a KMSServiceException)",
      error: () =>
        new KMSServiceException({
          name: "ThrottlingException",
          $fault: "client",
          message: "Rate exceeded",
          $metadata: { httpStatusCode: 400 },
        }),
    },
    {
      name: "a disabled key (DisabledException)",
      error: () => new DisabledException({ message: "key is disabled", $metadata: { httpStatusCode: 400 } }),
    },
  ];

  it.each(failures)(
    "answers 503 signing_unavailable on $name, signs once per request, caches no failure",
    async ({ error }) => {
      const { handler, client } = await kmsHandler();
      const mock = mockClient(client);
      mock.on(SignCommand).rejects(error());
      try {
        await expectSigningUnavailable(handler);
        expect(mock.commandCalls(SignCommand)).toHaveLength(1);
        await expectSigningUnavailable(handler);
        expect(mock.commandCalls(SignCommand)).toHaveLength(2);
      } finally {
        mock.restore();
      }
      await expectRecovered(handler);
    },
  );

  it("answers 503 signing_unavailable when the KMS endpoint is a closed port, then recovers", async () => {
    const { handler, client } = await kmsHandler();
    const unreachable = new KMSClient({ endpoint: await closedPortUrl() });
    const mock = mockClient(client);
    // Every Sign goes through a real SDK client (its retries, its network stack) to a port nothing listens on.
    mock.on(SignCommand).callsFake((input: SignCommand["input"]) => unreachable.send(new SignCommand(input)));
    try {
      await expectSigningUnavailable(handler);
    } finally {
      mock.restore();
    }
    await expectRecovered(handler);
  });

  it("answers 503 signing_unavailable when KMS is unreachable at cold start, and starts once it is back", async () => {
    let endpoint = await closedPortUrl();
    let starts = 0;
    const config = loadConfig({ ...fixture.env, ...env });
    let broker: ReturnType<typeof createBroker> | undefined;
    // Like the deployed handler: a failed start is not kept, the next invocation starts again.
    const handler = createTokenHandler(() => {
      broker ??= (async () => {
        starts++;
        const signer = await KmsSigner.load(key.alias, { alg: "RS256", client: new KMSClient({ endpoint }) });
        return createBroker(config, {}, { signer });
      })().catch((error: unknown) => {
        broker = undefined;
        throw error;
      });
      return broker;
    });
    await expectSigningUnavailable(handler);
    expect(starts).toBe(1);
    endpoint = process.env.AWS_ENDPOINT_URL ?? "";
    await expectRecovered(handler);
    expect(starts).toBe(2);
  });
});
