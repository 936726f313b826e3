// How the broker's AWS SDK clients behave on the network: bounded, so a hung KMS or Secrets Manager call
// becomes signing_unavailable well inside API Gateway's 29 s instead of holding every coalesced caller.

/** Client options for KMSClient and SecretsManagerClient (region and endpoint still come from the environment). */
export const AWS_CLIENT_OPTIONS = {
  /** The first try and one retry (the SDK's default is 3 tries). */
  maxAttempts: 2,
  // throwOnRequestTimeout: without it the current SDK only logs a warning when requestTimeout passes.
  requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
} as const;
