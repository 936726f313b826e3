// Secrets Manager outages at start, raised through aws-sdk-client-mock with the SDK's own exception classes.
import {
  DecryptionFailure,
  GetSecretValueCommand,
  InternalServiceError,
  InvalidRequestException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { SigningUnavailable } from "../../lib/problem/index.ts";
import { SecretsManagerSigner } from "../../lib/signer/secrets-manager.ts";

const RAW_AWS_MESSAGE = "raw-aws-message-with-internal-detail";
const meta = { $metadata: { httpStatusCode: 400 }, message: RAW_AWS_MESSAGE };
const client = new SecretsManagerClient({
  region: "eu-north-1",
  credentials: { accessKeyId: "x", secretAccessKey: "y" },
});
const mock = mockClient(client);
beforeEach(() => mock.reset());

describe("SecretsManagerSigner error mapping", () => {
  it.each<[string, Error, RegExp]>([
    [
      "throttling",
      new SecretsManagerServiceException({ name: "ThrottlingException", $fault: "client", ...meta }),
      /^Secrets Manager is throttling the broker's requests for the signing key's secret; retry shortly$/,
    ],
    [
      "access denied",
      new SecretsManagerServiceException({ name: "AccessDeniedException", $fault: "client", ...meta }),
      /denied the broker's role access to the signing key's secret/,
    ],
    ["a decryption failure", new DecryptionFailure(meta), /could not decrypt the signing key's secret/],
    ["a secret scheduled for deletion", new InvalidRequestException(meta), /may be scheduled for deletion/],
    [
      "an internal error",
      new InternalServiceError(meta),
      /had an internal error reading the signing key's secret/,
    ],
  ])("maps %s at start to signing_unavailable with the AWS error name", async (_case, failure, detail) => {
    mock.on(GetSecretValueCommand).rejects(failure);
    const error = await SecretsManagerSigner.load("broker-key", { alg: "RS256", client }).catch((e) => e);
    expect(error).toBeInstanceOf(SigningUnavailable);
    expect((error as SigningUnavailable).causeName).toBe(failure.name);
    expect((error as SigningUnavailable).detail).toMatch(detail);
    expect((error as SigningUnavailable).detail).not.toContain("broker-key");
    expect((error as SigningUnavailable).auditReason).toContain("the signing key's secret broker-key");
    expect((error as SigningUnavailable).auditReason).not.toContain(RAW_AWS_MESSAGE);
  });
});
