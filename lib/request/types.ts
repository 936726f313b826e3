// The token request as the broker reads it, in canonical field names: what the caller asks a token for.

/** What the caller asks a token for, already validated at the edge. */
export interface TokenRequest {
  readonly scopes: readonly string[];
  readonly resource?: readonly string[];
  readonly consumerOrg?: string;
  readonly systemuserOrg?: string;
  /** The system user's externalRef at Altinn; only with systemuserOrg. */
  readonly systemuserExternalRef?: string;
  /** The configured client's name: it picks the client id and key; the grant itself does not carry it. */
  readonly client?: string;
  /** The national identity number the token is restricted to (end-user-restricted token). Personal data: never logged. */
  readonly pid?: string;
  /** An Altinn consent: its request's id (UUID, lower case) and who gave it. A person's `from` is personal data. */
  readonly consent?: Consent;
  /** The iss_onbehalfof value registered on the client (a supplier acting for a customer). */
  readonly onbehalfof?: string;
  /** Exchange the Maskinporten token for this service's token; not part of the grant. */
  readonly exchange?: "altinn";
}

/** An Altinn consent reference: `from` is an 11-digit pid (a person) or a 9-digit organisation number. */
export interface Consent {
  readonly id: string;
  readonly from: string;
}
