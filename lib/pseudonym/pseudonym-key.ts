// The pid pseudonym: HMAC-SHA-256 of a pid under PID_PSEUDONYM_KEY (a file, a Secrets Manager secret, or a KMS HMAC key).
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
// Types only: the clients are imported when that source is configured (see kms.ts).
import type { KMSClient } from "@aws-sdk/client-kms";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ConfigError } from "../config/config-error.ts";
import type { SigningKeyRef } from "../config/index.ts";
import { SigningUnavailable } from "../problem/index.ts";
import { AWS_CLIENT_OPTIONS } from "../signer/aws-client.ts";
import { type AwsService, awsErrorName, keyUnavailable, signingUnavailable } from "../signer/aws-errors.ts";

/** The shortest key accepted from a file or a secret: HMAC-SHA-256's own block of strength. */
export const MIN_PSEUDONYM_KEY_BYTES = 32;
/** What the key is checked with at cold start (KMS): a message that is no pid. */
const PROBE = "pid-pseudonym-key-check";

/** Turns a pid into its pseudonym (64 hex characters). The pid is never logged, nor part of an error. */
export interface PidPseudonymizer {
  /** Where the key lives, for the audit trail and health; never the key. */
  readonly keyRef: string;
  pseudonym(pid: string): Promise<string>;
}

export interface PseudonymKeyDeps {
  kmsClient?: KMSClient;
  secretsManagerClient?: SecretsManagerClient;
}

/**
 * Loads PID_PSEUDONYM_KEY once: a file's or a secret's text (surrounding whitespace trimmed, at least 32 bytes) is
 * the HMAC key; a KMS key (HMAC_256, GENERATE_VERIFY_MAC) computes the HMAC itself with kms:GenerateMac and is
 * checked with one call. A missing or unfit key throws ConfigError; an AWS outage SigningUnavailable.
 */
export async function loadPidPseudonymizer(
  ref: SigningKeyRef,
  deps: PseudonymKeyDeps = {},
): Promise<PidPseudonymizer> {
  switch (ref.source) {
    case "file": {
      const origin = `PID_PSEUDONYM_KEY file:${ref.path}`;
      let text: string;
      try {
        text = readFileSync(ref.path, "utf8");
      } catch (error) {
        throw new ConfigError(
          `${origin}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? "error"})`,
        );
      }
      return hmacPseudonymizer(checkedKey(text, origin), `file:${ref.path}`);
    }
    case "secretsmanager":
      return hmacPseudonymizer(await secretKey(ref.secretId, deps), `secretsmanager:${ref.secretId}`);
    case "kms":
      return kmsPseudonymizer(ref.keyId, deps);
  }
}

function hmacPseudonymizer(key: Buffer, keyRef: string): PidPseudonymizer {
  return {
    keyRef,
    pseudonym: async (pid) => createHmac("sha256", key).update(pid, "utf8").digest("hex"),
  };
}

function checkedKey(text: string, origin: string): Buffer {
  const key = Buffer.from(text.trim(), "utf8");
  if (key.length < MIN_PSEUDONYM_KEY_BYTES) {
    throw new ConfigError(
      `${origin}: the key must be at least ${MIN_PSEUDONYM_KEY_BYTES} bytes (e.g. openssl rand -hex 32)`,
    );
  }
  return key;
}

async function secretKey(secretId: string, deps: PseudonymKeyDeps): Promise<Buffer> {
  const origin = `PID_PSEUDONYM_KEY secretsmanager:${secretId}`;
  const { GetSecretValueCommand, SecretsManagerClient } = await import("@aws-sdk/client-secrets-manager");
  const client = deps.secretsManagerClient ?? new SecretsManagerClient(AWS_CLIENT_OPTIONS);
  let text: string | undefined;
  try {
    ({ SecretString: text } = await client.send(new GetSecretValueCommand({ SecretId: secretId })));
  } catch (error) {
    throw loadFailure(
      error,
      "ResourceNotFoundException",
      origin,
      "Secrets Manager",
      "the pid pseudonym key's secret",
      secretId,
    );
  }
  if (text === undefined) throw new ConfigError(`${origin}: expected a SecretString holding the key`);
  return checkedKey(text, origin);
}

async function kmsPseudonymizer(keyId: string, deps: PseudonymKeyDeps): Promise<PidPseudonymizer> {
  const origin = `PID_PSEUDONYM_KEY kms:${keyId}`;
  const { GenerateMacCommand, KMSClient } = await import("@aws-sdk/client-kms");
  const client = deps.kmsClient ?? new KMSClient(AWS_CLIENT_OPTIONS);
  const encoder = new TextEncoder();
  const mac = async (message: string): Promise<{ hex: string; keyArn: string }> => {
    const answer = await client.send(
      new GenerateMacCommand({
        KeyId: keyId,
        MacAlgorithm: "HMAC_SHA_256",
        Message: encoder.encode(message),
      }),
    );
    if (answer.Mac === undefined)
      throw keyUnavailable("KMS returned no MAC for %s", "the pid pseudonym key", keyId);
    return { hex: Buffer.from(answer.Mac).toString("hex"), keyArn: answer.KeyId ?? keyId };
  };
  let keyArn: string;
  try {
    ({ keyArn } = await mac(PROBE));
  } catch (error) {
    if (awsErrorName(error) === "InvalidKeyUsageException") {
      throw new ConfigError(`${origin}: expected an HMAC_256 KMS key with key usage GENERATE_VERIFY_MAC`);
    }
    throw loadFailure(error, "NotFoundException", origin, "KMS", "the pid pseudonym key", keyId);
  }
  return {
    keyRef: keyArn,
    async pseudonym(pid) {
      try {
        return (await mac(pid)).hex;
      } catch (error) {
        if (error instanceof SigningUnavailable) throw error;
        throw signingUnavailable(error, "KMS", "the pid pseudonym key", keyArn);
      }
    },
  };
}

/** A missing key or secret is a configuration error; anything else an outage. */
function loadFailure(
  error: unknown,
  notFound: string,
  origin: string,
  service: AwsService,
  what: string,
  ref: string,
): Error {
  if (awsErrorName(error) === notFound) {
    return new ConfigError(`${origin}: not found in this account and region`);
  }
  return signingUnavailable(error, service, what, ref);
}
