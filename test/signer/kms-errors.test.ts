// moto signs with disabled or pending-deletion keys, so these failures are raised through aws-sdk-client-mock
// with the SDK's own exception classes (unmodelled ones, like throttling, arrive as KMSServiceException).
import { generateKeyPairSync } from "node:crypto";
import { type AddressInfo, createServer } from "node:net";
import {
  DependencyTimeoutException,
  DisabledException,
  GetPublicKeyCommand,
  KeyUnavailableException,
  KMSClient,
  KMSInternalException,
  KMSInvalidStateException,
  KMSServiceException,
  NotFoundException,
  SignCommand,
} from "@aws-sdk/client-kms";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../../lib/config/config-error.ts";
import { SigningUnavailable } from "../../lib/problem/index.ts";
import { AWS_CLIENT_OPTIONS } from "../../lib/signer/aws-client.ts";
import { KMS_SIGNING_ALGORITHM, KmsSigner } from "../../lib/signer/kms.ts";

const KEY_ARN = "arn:aws:kms:eu-north-1:111122223333:key/0b6f9c1e-52c6-4d3a-9d8e-1c2b3a4d5e6f";
const RAW_AWS_MESSAGE = "raw-aws-message-with-internal-detail";
const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const SPKI = new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
const ALL_RSA_ALGORITHMS = Object.values(KMS_SIGNING_ALGORITHM);

const kms = new KMSClient({ region: "eu-north-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
const mock = mockClient(kms);

beforeEach(() => {
  mock.reset();
  mock.on(GetPublicKeyCommand).resolves({
    KeyId: KEY_ARN,
    KeySpec: "RSA_2048",
    KeyUsage: "SIGN_VERIFY",
    PublicKey: SPKI,
    SigningAlgorithms: [...ALL_RSA_ALGORITHMS, "RSASSA_PSS_SHA_256" as const],
  });
});

const meta = { $metadata: { httpStatusCode: 400 }, message: RAW_AWS_MESSAGE };
const unmodelled = (name: string) =>
  new KMSServiceException({ name, $fault: "client", ...meta, $metadata: { httpStatusCode: 400 } });

const signWithFailure = async (failure: Error): Promise<unknown> => {
  mock.on(SignCommand).rejects(failure);
  const key = await (await KmsSigner.load("alias/broker", { alg: "RS256", client: kms })).current();
  return key.sign(new TextEncoder().encode("header.payload")).catch((error: unknown) => error);
};

describe("KmsSigner error mapping", () => {
  it.each<[string, Error, RegExp]>([
    ["a disabled key", new DisabledException(meta), /KMS reports the signing key is disabled/],
    [
      "a key pending deletion",
      new KMSInvalidStateException(meta),
      /cannot be used in its current state \(for example pending deletion\)/,
    ],
    [
      "throttling",
      unmodelled("ThrottlingException"),
      /KMS is throttling the broker's requests .*retry shortly/,
    ],
    [
      "access denied",
      unmodelled("AccessDeniedException"),
      /KMS denied the broker's role access to the signing key/,
    ],
    [
      "a deleted key",
      new NotFoundException(meta),
      /KMS cannot find the signing key \(deleted, or another account or region\)/,
    ],
    ["an unavailable key", new KeyUnavailableException(meta), /temporarily unavailable/],
    ["a KMS internal error", new KMSInternalException(meta), /KMS had an internal error/],
    ["a KMS dependency timeout", new DependencyTimeoutException(meta), /KMS timed out/],
  ])("maps %s at sign time to signing_unavailable, naming the AWS error", async (_case, failure, detail) => {
    const error = await signWithFailure(failure);
    expect(error).toBeInstanceOf(SigningUnavailable);
    const problem = error as SigningUnavailable;
    expect(problem.code).toBe("signing_unavailable");
    expect(problem.status).toBe(503);
    expect(problem.causeName).toBe(failure.name);
    expect(problem.detail).toMatch(detail);
    // The caller is told which key by its role; the ARN is for the audit record.
    expect(problem.detail).not.toContain(KEY_ARN);
    expect(problem.auditReason).toContain(KEY_ARN);
    expect(problem.auditReason.replace(` ${KEY_ARN}`, "")).toBe(problem.detail);
    expect(problem.auditReason).not.toContain(RAW_AWS_MESSAGE);
    expect(problem.retryAfterSeconds).toBeGreaterThan(0);
  });

  it("maps a network error to signing_unavailable named by its code", async () => {
    const refused = Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:9 ${RAW_AWS_MESSAGE}`), {
      code: "ECONNREFUSED",
    });
    const error = (await signWithFailure(refused)) as SigningUnavailable;
    expect(error).toBeInstanceOf(SigningUnavailable);
    expect(error.causeName).toBe("ECONNREFUSED");
    expect(error.detail).toBe("KMS could not be reached for the signing key (network error)");
    expect(error.auditReason).toBe(`KMS could not be reached for the signing key ${KEY_ARN} (network error)`);
  });

  it("says no AWS credentials at start (a real SDK client with an empty credential chain), not a network error", async () => {
    const noCredentials = new KMSClient({
      region: "eu-north-1",
      credentials: async () => {
        throw Object.assign(new Error("Could not load credentials from any providers"), {
          name: "CredentialsProviderError",
        });
      },
      maxAttempts: 1,
    });
    const error = await KmsSigner.load(KEY_ARN, { alg: "RS256", client: noCredentials }).catch((e) => e);
    expect(error).toBeInstanceOf(SigningUnavailable);
    expect(error).toMatchObject({ code: "signing_unavailable", causeName: "CredentialsProviderError" });
    expect((error as SigningUnavailable).detail).toMatch(
      /^KMS was not called for the signing key: no AWS credentials \(/,
    );
    expect((error as SigningUnavailable).auditReason).toMatch(
      new RegExp(`^KMS was not called for the signing key ${KEY_ARN}: no AWS credentials \\(`),
    );
  });

  it("says expired when KMS rejects the credentials as expired", async () => {
    const expired = new KMSServiceException({
      name: "ExpiredTokenException",
      $fault: "client",
      $metadata: {},
      message: RAW_AWS_MESSAGE,
    });
    const error = (await signWithFailure(expired)) as SigningUnavailable;
    expect(error.causeName).toBe("ExpiredTokenException");
    expect(error.detail).toMatch(/rejected the AWS credentials used for .* as expired/);
    expect(error.detail).not.toContain(RAW_AWS_MESSAGE);
  });

  it("maps an unreachable KMS endpoint at start (a real SDK client, nothing listening) to signing_unavailable", async () => {
    const port = await closedPort();
    const offline = new KMSClient({
      region: "eu-north-1",
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: "x", secretAccessKey: "y" },
      maxAttempts: 1,
    });
    const error = await KmsSigner.load("alias/broker", { alg: "RS256", client: offline }).catch((e) => e);
    expect(error).toBeInstanceOf(SigningUnavailable);
    expect((error as SigningUnavailable).causeName).toBe("ECONNREFUSED");
    expect((error as SigningUnavailable).detail).toMatch(/^KMS could not be reached .*\(network error\)$/);
  });

  it("gives up on a KMS endpoint that accepts connections but never answers, after 2 tries of 3 s", async () => {
    const { requestTimeout } = AWS_CLIENT_OPTIONS.requestHandler;
    // The endpoint reads each request and never answers; `requests` resolves the nth one as it arrives.
    const arrived: (() => void)[] = [];
    const requests = [1, 2, 3].map(() => new Promise<void>((resolve) => arrived.push(resolve)));
    let received = 0;
    const hung = createServer((socket) => socket.once("data", () => arrived[received++]?.()));
    await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
    const { port } = hung.address() as AddressInfo;
    const saved = { ...process.env };
    // No injected client: the broker's own (AWS_CLIENT_OPTIONS), on the SDK's timers, which the test's clock drives.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_KMS: `http://127.0.0.1:${port}`,
      AWS_REGION: "eu-north-1",
      AWS_ACCESS_KEY_ID: "x",
      AWS_SECRET_ACCESS_KEY: "y",
    });
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      let settled = false;
      const loading = KmsSigner.load("alias/broker", { alg: "RS256" }).then(
        () => undefined,
        (error: unknown) => error,
      );
      void loading.then(() => {
        settled = true;
      });
      await requests[0];
      await vi.advanceTimersByTimeAsync(requestTimeout - 1);
      expect(settled).toBe(false);
      // The first try times out; the SDK's one retry follows its backoff (at most a second here).
      await vi.advanceTimersByTimeAsync(1 + 1000);
      await requests[1];
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(requestTimeout);
      const error = await loading;
      expect(error).toBeInstanceOf(SigningUnavailable);
      expect((error as SigningUnavailable).causeName).toBe("ETIMEDOUT");
      expect(received).toBe(2);
    } finally {
      vi.useRealTimers();
      for (const name of [
        "AWS_ENDPOINT_URL_KMS",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
      ]) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
      hung.close();
    }
  });

  it("maps throttling at start to signing_unavailable, and an unknown key to a ConfigError", async () => {
    mock.on(GetPublicKeyCommand).rejects(unmodelled("ThrottlingException"));
    const throttled = await KmsSigner.load("alias/broker", { alg: "RS256", client: kms }).catch((e) => e);
    expect(throttled).toBeInstanceOf(SigningUnavailable);
    expect((throttled as SigningUnavailable).causeName).toBe("ThrottlingException");

    mock.on(GetPublicKeyCommand).rejects(new NotFoundException(meta));
    const missing = KmsSigner.load("alias/broker", { alg: "RS256", client: kms });
    await expect(missing).rejects.toBeInstanceOf(ConfigError);
    await expect(missing).rejects.toThrow(/^SIGNING_KEY kms:alias\/broker: no such KMS key or alias/);
  });

  it("refuses a key that does not offer the PKCS#1 v1.5 algorithm SIGNING_ALG needs", async () => {
    mock.on(GetPublicKeyCommand).resolves({
      KeyId: KEY_ARN,
      KeySpec: "RSA_2048",
      KeyUsage: "SIGN_VERIFY",
      PublicKey: SPKI,
      SigningAlgorithms: ["RSASSA_PSS_SHA_512"],
    });
    await expect(KmsSigner.load("alias/broker", { alg: "RS512", client: kms })).rejects.toThrow(
      "the key does not offer RSASSA_PKCS1_V1_5_SHA_512, which SIGNING_ALG=RS512 needs",
    );
  });

  it.each([
    ["RS256", "RSASSA_PKCS1_V1_5_SHA_256"],
    ["RS384", "RSASSA_PKCS1_V1_5_SHA_384"],
    ["RS512", "RSASSA_PKCS1_V1_5_SHA_512"],
  ] as const)("signs %s as Sign(MessageType RAW, %s) on the resolved key ARN", async (alg, algorithm) => {
    mock.on(SignCommand).resolves({ Signature: new Uint8Array([1, 2, 3]), KeyId: KEY_ARN });
    const key = await (await KmsSigner.load("alias/broker", { alg, client: kms })).current();
    const input = new TextEncoder().encode("header.payload");
    expect(await key.sign(input)).toEqual(new Uint8Array([1, 2, 3]));
    const calls = mock.commandCalls(SignCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      KeyId: KEY_ARN,
      Message: input,
      MessageType: "RAW",
      SigningAlgorithm: algorithm,
    });
    expect(mock.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
  });
});

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
