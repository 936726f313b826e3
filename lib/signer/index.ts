// Picks the key source named by SIGNING_KEY and loads it once per cold start.
import type { KMSClient } from "@aws-sdk/client-kms";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SigningConfig } from "../config/index.ts";
import { FileSigner } from "./file.ts";
import type { RefreshLog } from "./secrets-manager.ts";
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
  const options = { alg: signing.alg, ...(signing.kid === undefined ? {} : { kid: signing.kid }) };
  switch (signing.key.source) {
    case "file":
      return FileSigner.load(signing.key.path, options);
    case "kms": {
      // Loaded on demand so a file-key deployment never evaluates the AWS SDK.
      const { KmsSigner } = await import("./kms.ts");
      return KmsSigner.load(signing.key.keyId, {
        ...options,
        ...(deps.kmsClient === undefined ? {} : { client: deps.kmsClient }),
      });
    }
    case "secretsmanager": {
      const { SecretsManagerSigner } = await import("./secrets-manager.ts");
      return SecretsManagerSigner.load(signing.key.secretId, {
        ...options,
        ...(deps.secretsManagerClient === undefined ? {} : { client: deps.secretsManagerClient }),
        ...(deps.now === undefined ? {} : { now: deps.now }),
        ...(deps.log === undefined ? {} : { log: deps.log }),
      });
    }
  }
}
