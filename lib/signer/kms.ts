// KmsSigner: the private key never leaves AWS KMS; grants are signed with kms:Sign (MessageType RAW).
import { createPublicKey, type KeyObject } from "node:crypto";
// Types only: the client is imported when a KMS key is configured, so a bundle that leaves the SDK to the
// Lambda runtime does not load it (or the Secrets Manager client) at every cold start.
import type { GetPublicKeyCommandOutput, KMSClient } from "@aws-sdk/client-kms";
import { ConfigError } from "../config/config-error.ts";
import type { SigningAlg } from "../config/index.ts";
import { AWS_CLIENT_OPTIONS } from "./aws-client.ts";
import { awsErrorName, keyUnavailable, signingUnavailable } from "./aws-errors.ts";
import { assertAlgFits, kidOf, publicJwkOf } from "./keys.ts";
import type { Signer, SigningKey } from "./signer.ts";

/** The KMS signing algorithm for each JWS algorithm Maskinporten accepts (PKCS#1 v1.5, not PSS). */
export const KMS_SIGNING_ALGORITHM = {
  RS256: "RSASSA_PKCS1_V1_5_SHA_256",
  RS384: "RSASSA_PKCS1_V1_5_SHA_384",
  RS512: "RSASSA_PKCS1_V1_5_SHA_512",
} as const satisfies Record<SigningAlg, string>;

export interface KmsSignerOptions {
  alg: SigningAlg;
  kid?: string | undefined;
  /** Defaults to a client configured from the environment (AWS_REGION, AWS_ENDPOINT_URL_KMS, ...). */
  client?: KMSClient | undefined;
}

export class KmsSigner implements Signer {
  private constructor(private readonly key: SigningKey) {}

  /**
   * Calls GetPublicKey once and checks the key is an RSA SIGN_VERIFY key offering SIGNING_ALG.
   * An unknown key or a key of the wrong kind throws ConfigError; a KMS outage throws SigningUnavailable.
   */
  static async load(keyId: string, options: KmsSignerOptions): Promise<KmsSigner> {
    const origin = `SIGNING_KEY kms:${keyId}`;
    const { GetPublicKeyCommand, KMSClient, SignCommand } = await import("@aws-sdk/client-kms");
    const client = options.client ?? new KMSClient(AWS_CLIENT_OPTIONS);
    let described: GetPublicKeyCommandOutput;
    try {
      described = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
    } catch (error) {
      if (awsErrorName(error) === "NotFoundException") {
        throw new ConfigError(`${origin}: no such KMS key or alias in this account and region`);
      }
      throw signingUnavailable(error, "KMS", "the signing key", keyId);
    }
    const publicKey = checkedPublicKey(described, options.alg, origin);
    const kid = kidOf(publicKey, options.kid);
    const keyArn = described.KeyId ?? keyId;
    const { alg } = options;
    const signingAlgorithm = KMS_SIGNING_ALGORITHM[alg];
    return new KmsSigner({
      alg,
      header: { kid },
      // Derived when asked (the jwks route, the key watch): the token path never reads it.
      get jwk() {
        return publicJwkOf(publicKey, alg, kid);
      },
      keyRef: keyArn,
      async sign(signingInput) {
        let signature: Uint8Array | undefined;
        try {
          const command = new SignCommand({
            KeyId: keyArn,
            Message: signingInput,
            MessageType: "RAW",
            SigningAlgorithm: signingAlgorithm,
          });
          signature = (await client.send(command)).Signature;
        } catch (error) {
          throw signingUnavailable(error, "KMS", "the signing key", keyArn);
        }
        if (signature === undefined) {
          throw keyUnavailable("KMS returned no signature for %s", "the signing key", keyArn, {
            causeName: "EmptySignature",
          });
        }
        return signature;
      },
    });
  }

  async current(): Promise<SigningKey> {
    return this.key;
  }
}

/** Refuses anything but an RSA SIGN_VERIFY key that offers the algorithm; returns the public key. */
function checkedPublicKey(described: GetPublicKeyCommandOutput, alg: SigningAlg, origin: string): KeyObject {
  const spec = described.KeySpec ?? described.CustomerMasterKeySpec;
  if (described.KeyUsage !== undefined && described.KeyUsage !== "SIGN_VERIFY") {
    throw new ConfigError(
      `${origin}: the key's usage is ${described.KeyUsage}; create an RSA key with KeyUsage SIGN_VERIFY`,
    );
  }
  if (described.PublicKey === undefined) throw new ConfigError(`${origin}: KMS returned no public key`);
  const publicKey = createPublicKey({ key: Buffer.from(described.PublicKey), format: "der", type: "spki" });
  if (publicKey.asymmetricKeyType !== "rsa" || (spec !== undefined && !spec.startsWith("RSA_"))) {
    throw new ConfigError(
      `${origin}: the key is ${spec ?? publicKey.asymmetricKeyType}, not RSA; Maskinporten accepts only RS256/RS384/RS512, so use an RSA_2048, RSA_3072 or RSA_4096 key`,
    );
  }
  const wanted = KMS_SIGNING_ALGORITHM[alg];
  if (!(described.SigningAlgorithms ?? []).includes(wanted)) {
    throw new ConfigError(`${origin}: the key does not offer ${wanted}, which SIGNING_ALG=${alg} needs`);
  }
  assertAlgFits(publicKey, alg, origin);
  return publicKey;
}
