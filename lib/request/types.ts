// The token request as the broker reads it, in canonical field names: what the caller asks a token for.

/** What the caller asks a token for, already validated at the edge. */
export interface TokenRequest {
  readonly scopes: readonly string[];
  readonly resource?: readonly string[];
  readonly consumerOrg?: string;
  readonly systemuserOrg?: string;
  /** The configured client's name: it picks the client id and key; the grant itself does not carry it. */
  readonly client?: string;
  /** The national identity number the token is restricted to (end-user-restricted token). Personal data: never logged. */
  readonly pid?: string;
  /** Exchange the Maskinporten token for this service's token; not part of the grant. */
  readonly exchange?: "altinn";
}
