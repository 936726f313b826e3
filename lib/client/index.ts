// The package entry for internal services: a typed, SigV4-signing client for the broker's POST /token.
export { DEFAULT_MIN_TTL_SECONDS } from "../contract/index.ts";
export { TokenBrokerError, type TokenBrokerErrorCode } from "./errors.ts";
export type { TokenResponse } from "./response.ts";
export {
  type AwsCredentials,
  type AwsCredentialsProvider,
  createTokenClient,
  type GetTokenRequest,
  type TokenClient,
  type TokenClientOptions,
} from "./token-client.ts";
