// The token request as the broker reads it, in canonical field names and branded types: what the parse proved.

/**
 * A value the request parser checked. Zero-cost (the brand exists only for the compiler) and minted only in
 * lib/request, so code downstream trusts it instead of checking or canonicalising it again.
 */
type Parsed<T, Name extends string> = T & { readonly __brand: Name };

/** One RFC 6749 scope-token without a run of 11 digits. */
export type Scope = Parsed<string, "Scope">;
/** The request's scopes sorted and de-duplicated: the one canonical form the cache key and the grant take as it is. */
export type ScopeSet = Parsed<readonly Scope[], "ScopeSet">;
/** Nine digits with a valid mod-11 check digit. */
export type OrgNumber = Parsed<string, "OrgNumber">;
/** A national identity or D-number with valid control digits. Personal data: never logged. */
export type Pid = Parsed<string, "Pid">;
/** An absolute https URI of URI characters, as the caller wrote it (Maskinporten compares it byte for byte). */
export type ResourceUri = Parsed<string, "ResourceUri">;
/** The request's resources sorted and de-duplicated. */
export type ResourceSet = Parsed<readonly ResourceUri[], "ResourceSet">;
/** A Maskinporten client name of the configured names' characters (letters, digits, '-', '_'). */
export type ClientName = Parsed<string, "ClientName">;

/** Any text but a Pid: what an audit record's fields take, so writing a pid into one does not compile. */
export type NotPid = string & { readonly __brand?: "Scope" | "OrgNumber" | "ResourceUri" | "ClientName" };

/** What the caller asks a token for, already validated at the edge. */
export interface TokenRequest {
  readonly scopes: ScopeSet;
  readonly resource?: ResourceSet | undefined;
  readonly consumerOrg?: OrgNumber | undefined;
  readonly systemuserOrg?: OrgNumber | undefined;
  /** The system user's externalRef at Altinn; only with systemuserOrg. */
  readonly systemuserExternalRef?: string | undefined;
  /** The configured client's name: it picks the client id and key; the grant itself does not carry it. */
  readonly client?: ClientName | undefined;
  /** The national identity number the token is restricted to (end-user-restricted token). Personal data: never logged. */
  readonly pid?: Pid | undefined;
  /** An Altinn consent: its request's id (UUID, lower case) and who gave it. A person's `from` is personal data. */
  readonly consent?: Consent | undefined;
  /** The iss_onbehalfof value registered on the client (a supplier acting for a customer). */
  readonly onbehalfof?: string | undefined;
  /** Exchange the Maskinporten token for this service's token; not part of the grant. */
  readonly exchange?: "altinn" | undefined;
}

/** An Altinn consent reference: `from` is a person (an 11-digit pid) or an organisation (a 9-digit number). */
export interface Consent {
  readonly id: string;
  readonly from: Pid | OrgNumber;
}
