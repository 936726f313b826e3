// SecretsManagerSigner: a private key (and optional certificate chain) kept in Secrets Manager, re-read every 5 minutes.
import { createPublicKey, type KeyObject, X509Certificate } from "node:crypto";
// Types only: the client is imported when a secret is configured (see kms.ts).
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import * as v from "valibot";
import { ConfigError } from "../config/config-error.ts";
import type { SigningAlg } from "../config/index.ts";
import { Problem } from "../problem/index.ts";
import { isRecord, strictDocument } from "../schema/index.ts";
import { KID_PATTERN } from "../schema/names.ts";
import { AWS_CLIENT_OPTIONS } from "./aws-client.ts";
import { awsErrorName, signingUnavailable } from "./aws-errors.ts";
import { assertAlgFits, inMemorySigningKey, kidOf, parsePrivateKey } from "./keys.ts";
import type { KeyHeader, Signer, SigningKey } from "./signer.ts";

/** A rotation (new AWSCURRENT version) is picked up within this long. */
export const REFRESH_INTERVAL_MS = 5 * 60_000;
/** After a failed refresh the last good key is kept and the secret is tried again this much later. */
export const RETRY_AFTER_FAILURE_MS = 30_000;

export interface RefreshFailure {
  event: "signing_key_refresh_failed";
  secret: string;
  /** AWS error name, or ConfigError when the new version itself is unusable. */
  causeName: string;
  detail: string;
}
export type RefreshLog = (failure: RefreshFailure) => void;

export interface SecretsManagerSignerOptions {
  alg: SigningAlg;
  /** SIGNING_KID: used when the secret names no kid of its own. */
  kid?: string | undefined;
  /** Defaults to a client configured from the environment (AWS_REGION, AWS_ENDPOINT_URL_SECRETS_MANAGER, ...). */
  client?: SecretsManagerClient | undefined;
  /** Wall clock, epoch ms: the refresh interval and certificate validity. */
  now?: (() => number) | undefined;
  log?: RefreshLog | undefined;
}

/** The secret's JSON (docs/key-custody.md): `{"private_key": PEM | JWK, "kid"?: "...", "certificate_chain"?: [PEM, ...]}`. */
const CHAIN_SHAPE = "certificate_chain: expected an array of PEM certificates, leaf first";
const SecretSchema = strictDocument(
  {
    private_key: v.union(
      [v.pipe(v.string(), v.minLength(1)), v.custom<Record<string, unknown>>(isRecord)],
      "private_key: expected a PKCS#8 PEM string or a private JWK object",
    ),
    kid: v.optional(
      v.pipe(
        v.string("kid: expected a string"),
        v.regex(KID_PATTERN, "kid: expected letters, digits, '.', '_' or '-' (at most 200)"),
      ),
    ),
    certificate_chain: v.optional(
      v.pipe(
        v.array(v.string(CHAIN_SHAPE), CHAIN_SHAPE),
        v.minLength(1, "certificate_chain: expected at least the leaf certificate"),
      ),
    ),
  },
  { notObject: "expected a JSON object", unknown: (keys) => `unknown member(s) ${keys.join(", ")}` },
);

const defaultLog: RefreshLog = (failure) => console.warn(JSON.stringify({ level: "WARN", ...failure }));

export class SecretsManagerSigner implements Signer {
  private nextReadAt: number;
  private refreshing: Promise<void> | undefined;

  private constructor(
    private readonly secretId: string,
    private readonly options: SecretsManagerSignerOptions,
    private readonly client: SecretsManagerClient,
    private readonly now: () => number,
    private key: SigningKey,
  ) {
    this.nextReadAt = now() + REFRESH_INTERVAL_MS;
  }

  /**
   * Reads and checks the secret once: a missing secret or unusable content throws ConfigError
   * (naming the member at fault, never echoing it); a Secrets Manager outage throws SigningUnavailable.
   */
  static async load(secretId: string, options: SecretsManagerSignerOptions): Promise<SecretsManagerSigner> {
    const client =
      options.client ??
      new (await import("@aws-sdk/client-secrets-manager")).SecretsManagerClient(AWS_CLIENT_OPTIONS);
    const now = options.now ?? Date.now;
    const key = await readSigningKey(client, secretId, options, now());
    return new SecretsManagerSigner(secretId, options, client, now, key);
  }

  /** The key to sign with; re-reads the secret when the refresh interval has passed (one read at a time). */
  async current(): Promise<SigningKey> {
    if (this.now() >= this.nextReadAt) {
      this.refreshing ??= this.refresh().finally(() => {
        this.refreshing = undefined;
      });
      await this.refreshing;
    }
    return this.key;
  }

  private async refresh(): Promise<void> {
    try {
      this.key = await readSigningKey(this.client, this.secretId, this.options, this.now());
      this.nextReadAt = this.now() + REFRESH_INTERVAL_MS;
    } catch (error) {
      this.nextReadAt = this.now() + RETRY_AFTER_FAILURE_MS;
      const problem = error instanceof Problem ? error : undefined;
      const failure = error as Error;
      (this.options.log ?? defaultLog)({
        event: "signing_key_refresh_failed",
        secret: this.secretId,
        causeName: problem?.causeName ?? awsErrorName(failure.cause) ?? failure.name,
        detail: `${problem?.detail ?? failure.message}; still signing with ${this.key.keyRef}`,
      });
    }
  }
}

async function readSigningKey(
  client: SecretsManagerClient,
  secretId: string,
  options: SecretsManagerSignerOptions,
  nowMs: number,
): Promise<SigningKey> {
  const origin = `SIGNING_KEY secretsmanager:${secretId}`;
  const { GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
  let arn: string | undefined;
  let text: string | undefined;
  try {
    ({ ARN: arn, SecretString: text } = await client.send(new GetSecretValueCommand({ SecretId: secretId })));
  } catch (error) {
    if (awsErrorName(error) === "ResourceNotFoundException") {
      throw new ConfigError(
        `${origin}: no such secret (or no AWSCURRENT version) in this account and region`,
        { cause: error },
      );
    }
    throw signingUnavailable(error, "Secrets Manager", "the signing key's secret", secretId);
  }
  const secret = parseSecret(text, origin);
  const privateKey = parsePrivateKey(secret.private_key, `${origin} private_key`);
  assertAlgFits(privateKey, options.alg, origin);
  const x5c =
    secret.certificate_chain === undefined
      ? undefined
      : checkedChain(secret.certificate_chain, privateKey, nowMs, origin);
  const configured = secret.kid ?? options.kid;
  const kid = kidOf(privateKey, configured);
  const header: KeyHeader = configured === undefined && x5c !== undefined ? { x5c } : { kid };
  return inMemorySigningKey(privateKey, options.alg, {
    kid,
    header,
    keyRef: `${arn ?? secretId}#${kid}`,
    x5c,
  });
}

function parseSecret(text: string | undefined, origin: string): v.InferOutput<typeof SecretSchema> {
  if (text === undefined) throw new ConfigError(`${origin}: the secret has no SecretString; store JSON text`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message would quote the secret, so it is not passed on.
    throw new ConfigError(
      `${origin}: the secret is not JSON; expected {"private_key": ..., "kid"?, "certificate_chain"?}`,
    );
  }
  const parsed = v.safeParse(SecretSchema, json);
  if (!parsed.success)
    throw new ConfigError(`${origin}: ${parsed.issues.map((issue) => issue.message).join("; ")}`);
  return parsed.output;
}

/** Checks the chain (leaf first) fits the key, is currently valid and links up; returns the x5c entries. */
function checkedChain(pems: string[], privateKey: KeyObject, nowMs: number, origin: string): string[] {
  const certificates = pems.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch {
      throw new ConfigError(`${origin}: certificate_chain[${i}] is not a PEM certificate`);
    }
  });
  const [leaf] = certificates;
  if (leaf !== undefined && !leaf.publicKey.equals(createPublicKey(privateKey))) {
    throw new ConfigError(
      `${origin}: certificate_chain[0] (${leaf.subject.replaceAll("\n", ", ")}) does not belong to private_key`,
    );
  }
  certificates.forEach((certificate, i) => {
    const now = new Date(nowMs);
    if (now < certificate.validFromDate || now > certificate.validToDate) {
      throw new ConfigError(
        `${origin}: certificate_chain[${i}] is not valid now (valid from ${certificate.validFromDate.toISOString()} to ${certificate.validToDate.toISOString()})`,
      );
    }
    const issuer = certificates[i + 1];
    if (issuer !== undefined && !(certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey))) {
      throw new ConfigError(
        `${origin}: certificate_chain[${i}] is not issued by certificate_chain[${i + 1}]; list the chain leaf first`,
      );
    }
  });
  return certificates.map((certificate) => certificate.raw.toString("base64"));
}
