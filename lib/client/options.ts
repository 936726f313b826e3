// The caller client's settings checked once, at construction: the broker's URL, the SigV4 region, the credentials.
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { TokenBrokerError } from "./errors.ts";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

/** An AWS region name such as eu-north-1 or us-gov-west-1. */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** The POST /token URL under `endpoint`, which must be an absolute http(s) URL; a TypeError naming it otherwise. */
export function tokenUrl(endpoint: unknown): URL {
  const expected =
    "createTokenClient: endpoint must be the broker's absolute http(s) URL, e.g. https://<api-id>-<vpce-id>.execute-api.eu-north-1.amazonaws.com/prod";
  if (typeof endpoint !== "string" || endpoint.trim() === "") {
    throw new TypeError(`${expected} (got ${endpoint === "" ? "an empty string" : String(endpoint)})`);
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError(`${expected} (got "${endpoint}", which has no scheme or host)`);
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.hostname === "") {
    throw new TypeError(`${expected} (got the scheme ${url.protocol})`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new TypeError(`${expected} (without user:password: requests are signed with SigV4)`);
  }
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/token`;
  return url;
}

/** The region from the option, else AWS_REGION; a TypeError when neither names one. */
export function signingRegion(region: unknown, env: Readonly<Record<string, string | undefined>>): string {
  const chosen = region ?? (env.AWS_REGION?.trim() || undefined);
  if (typeof chosen === "string" && REGION.test(chosen)) return chosen;
  const origin = region === undefined ? "AWS_REGION" : "region";
  throw new TypeError(
    chosen === undefined
      ? "createTokenClient: region is required (the broker API's region, e.g. eu-north-1): pass region or set AWS_REGION"
      : `createTokenClient: ${origin} must be an AWS region such as eu-north-1 (got "${String(chosen)}")`,
  );
}

/** The SDK's own words on why it has no credentials, on one line and bounded: they name the provider, no secret. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]?.slice(0, 300) ?? "";
}

/**
 * The credentials the client signs with, as a provider that turns every failure to get them (no credentials in
 * the chain, an expired SSO session, credentials past their expiration) into `credentials_error`: not a network
 * fault, and never retried.
 */
export function credentialSource(
  given: AwsCredentials | AwsCredentialsProvider | undefined,
  wallClock: () => number = Date.now,
): AwsCredentialsProvider {
  const provider: AwsCredentialsProvider =
    typeof given === "function" ? given : given === undefined ? fromNodeProviderChain() : async () => given;
  return async () => {
    let credentials: AwsCredentials;
    try {
      credentials = await provider();
    } catch (error) {
      throw new TokenBrokerError(
        {
          code: "credentials_error",
          status: 0,
          detail: `No AWS credentials to sign the request with: ${reasonOf(error)}`,
        },
        { cause: error },
      );
    }
    const expiration = credentials.expiration?.getTime();
    if (expiration !== undefined && expiration <= wallClock()) {
      throw new TokenBrokerError({
        code: "credentials_error",
        status: 0,
        detail: `The AWS credentials expired at ${new Date(expiration).toISOString()}: refresh them (e.g. aws sso login)`,
      });
    }
    return credentials;
  };
}
