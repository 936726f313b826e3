// Picks the key source named by SIGNING_KEY and loads it once per cold start.
import type { KMSClient } from "@aws-sdk/client-kms";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ConfigError } from "../config/config-error.ts";
import type { ClientConfig, SigningConfig } from "../config/index.ts";
import { DEFAULT_CLIENT_NAME } from "../schema/names.ts";
import { FileSigner } from "./file.ts";
import { KmsSigner } from "./kms.ts";
import { type RefreshLog, SecretsManagerSigner } from "./secrets-manager.ts";
import type { Signer } from "./signer.ts";

export type { KeyHeader, PublicJwk, Signer, SigningKey } from "./signer.ts";

/** Optional collaborators, for tests and the CLI; by default the SDK clients are built from the environment. */
export interface SignerDeps {
  kmsClient?: KMSClient;
  secretsManagerClient?: SecretsManagerClient;
  /** Wall clock in epoch ms (Secrets Manager refresh interval, certificate validity). */
  now?: () => number;
  /** Where a failed Secrets Manager refresh is reported. */
  log?: RefreshLog;
}

export async function createSigner(signing: SigningConfig, deps: SignerDeps = {}): Promise<Signer> {
  const options = { alg: signing.alg, kid: signing.kid };
  switch (signing.key.source) {
    case "file":
      return FileSigner.load(signing.key.path, options);
    case "kms":
      return KmsSigner.load(signing.key.keyId, { ...options, client: deps.kmsClient });
    case "secretsmanager":
      return SecretsManagerSigner.load(signing.key.secretId, {
        ...options,
        client: deps.secretsManagerClient,
        now: deps.now,
        log: deps.log,
      });
  }
}

/**
 * The signer of one configured client. A key problem of a named client says which client, and its field
 * (signing_key); the single-client form keeps naming SIGNING_KEY.
 */
export async function createClientSigner(client: ClientConfig, deps: SignerDeps = {}): Promise<Signer> {
  try {
    return await createSigner(client.signing, deps);
  } catch (error) {
    if (!(error instanceof ConfigError) || client.name === DEFAULT_CLIENT_NAME) throw error;
    const message = error.message.replace(/^SIGNING_KEY /, "signing_key ");
    throw new ConfigError(`client ${client.name} ${message}`, { cause: error });
  }
}
