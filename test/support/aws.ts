// Test support: SDK clients for the suite's moto server (test/setup/moto.ts), KMS keys and secrets created there.
import { createPublicKey, type KeyObject, randomUUID } from "node:crypto";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  GetPublicKeyCommand,
  type KeySpec,
  type KeyUsageType,
  KMSClient,
} from "@aws-sdk/client-kms";
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";

/** Throws unless the moto global setup pointed the SDK at a local server. */
export function motoEndpoint(): string {
  const url = process.env.AWS_ENDPOINT_URL;
  if (url === undefined || !url.startsWith("http://127.0.0.1:")) {
    throw new Error("AWS_ENDPOINT_URL is not the local moto server: run through vitest (test/setup/moto.ts)");
  }
  return url;
}

export function kmsClient(): KMSClient {
  motoEndpoint();
  return new KMSClient({});
}

export function secretsClient(): SecretsManagerClient {
  motoEndpoint();
  return new SecretsManagerClient({});
}

export interface TestKmsKey {
  keyId: string;
  arn: string;
  alias: string;
}

/** A fresh KMS key in moto with a unique alias. */
export async function createKmsKey(
  kms: KMSClient,
  keySpec: KeySpec = "RSA_2048",
  keyUsage: KeyUsageType = "SIGN_VERIFY",
): Promise<TestKmsKey> {
  const created = await kms.send(new CreateKeyCommand({ KeySpec: keySpec, KeyUsage: keyUsage }));
  const keyId = created.KeyMetadata?.KeyId ?? "";
  const alias = `alias/test-${randomUUID()}`;
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
  return { keyId, arn: created.KeyMetadata?.Arn ?? "", alias };
}

/** The key's public half as KMS itself hands it out (GetPublicKey), for jose to verify with. */
export async function kmsPublicKey(kms: KMSClient, keyId: string): Promise<KeyObject> {
  const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  return createPublicKey({ key: Buffer.from(PublicKey ?? new Uint8Array()), format: "der", type: "spki" });
}

const secretString = (value: object | string) => (typeof value === "string" ? value : JSON.stringify(value));

/** A new secret with a unique name (an object is stored as its JSON text); returns its ARN. */
export async function createSecret(sm: SecretsManagerClient, value: object | string): Promise<string> {
  const created = await sm.send(
    new CreateSecretCommand({ Name: `broker-key-${randomUUID()}`, SecretString: secretString(value) }),
  );
  return created.ARN ?? "";
}

/** Puts a new AWSCURRENT version, as a rotation does. */
export async function rotateSecret(
  sm: SecretsManagerClient,
  secretId: string,
  value: object | string,
): Promise<void> {
  await sm.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: secretString(value) }));
}
