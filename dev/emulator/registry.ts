// The emulator's client register: who may send grants, with which keys (and until when) or certificates, for which scopes.
import { X509Certificate } from "node:crypto";
import type { JWK } from "jose";

/** A delegation in Altinn: `consumerOrg` lets this client act for it on `scopes`. */
export interface Delegation {
  consumerOrg: string;
  scopes: readonly string[];
}

/**
 * An Altinn system user owned by `orgNumber` that this client (the system) may act as. Its rights are Altinn's
 * business (the API asks Altinn's PDP); Maskinporten only finds it, by organisation and externalRef.
 */
export interface SystemUser {
  orgNumber: string;
  /** The vendor's reference from the system user request; Altinn defaults it to the organisation number. */
  externalRef?: string;
  /** Defaults to a fresh UUID. */
  id?: string;
}

/** An Altinn consent (samtykke) given by `from` (pid or organisation number) to `to`, known by its request's id. */
export interface ConsentRegistration {
  id: string;
  from: string;
  /** The organisation the consent was given to; defaults to the client's own. */
  to?: string;
  /** Scopes a token for this consent may carry. */
  scopes: readonly string[];
  /** ISO 8601 timestamps: when it was given (default: at registration), and until when it holds. */
  consented?: string;
  validTo: string;
  /** The consent resource in Altinn's resource registry, and its metadata (e.g. `{"inntektsaar": "2024"}`). */
  resource: string;
  metadata?: Readonly<Record<string, string>>;
}

export interface RegisteredConsent {
  from: string;
  to: string;
  scopes: ReadonlySet<string>;
  consented: string;
  validTo: string;
  consentRights: readonly unknown[];
}

/** A system user as registered: the externalRef it is found by (its organisation number when it has none). */
export interface RegisteredSystemUser {
  id: string;
  externalRef: string;
  /** False when the user was created without one (Altinn then uses the organisation number). */
  explicitRef: boolean;
}

export interface ClientRegistration {
  clientId: string;
  /**
   * Public keys the client may name with `kid` (each must carry a `kid`), at most 5. Each is registered until its
   * `exp` (unix seconds) when it carries one, else for one year from registration, as the self-service API does.
   */
  jwks?: readonly (JWK & { kid: string; exp?: number })[];
  /** PEM certificates (a CA or the leaf itself) an `x5c` chain must end in. */
  trustedCertificates?: readonly string[];
  scopes: readonly string[];
  delegations?: readonly Delegation[];
  systemUsers?: readonly SystemUser[];
  consents?: readonly ConsentRegistration[];
  /** The onbehalfof values registered on the client (iss_onbehalfof). */
  onbehalfof?: readonly string[];
  /** The client's own organisation number (the token's `consumer`, or `supplier` when delegated). */
  orgNumber?: string;
}

/** A registered public key and when its registration ends. */
export interface RegisteredKey {
  jwk: JWK & { kid: string };
  /** Unix seconds; a grant signed with the key after this is refused (MP-121). */
  exp: number;
}

export interface RegisteredClient {
  clientId: string;
  orgNumber: string;
  /** Replaced as a whole when the self-service API posts a new set. */
  keys: ReadonlyMap<string, RegisteredKey>;
  /** Unix seconds: when the key set was first registered, and last replaced. */
  keysCreated: number;
  keysUpdated: number;
  trusted: readonly X509Certificate[];
  scopes: ReadonlySet<string>;
  delegations: ReadonlyMap<string, ReadonlySet<string>>;
  /** By organisation number: every system user of that organisation pointing at this client's system. */
  systemUsers: ReadonlyMap<string, readonly RegisteredSystemUser[]>;
  /** By consent request id. */
  consents: ReadonlyMap<string, RegisteredConsent>;
  onbehalfof: ReadonlySet<string>;
}

/** Digitaliseringsdirektoratet's organisation number: the default owner of an emulated client. */
export const DEFAULT_CLIENT_ORG = "991825827";

/** Maskinporten keeps at most this many keys per client. */
export const MAX_CLIENT_KEYS = 5;
/** A registration lasts one year from posting, unless posted with a shorter `exp`. */
export const KEY_REGISTRATION_SECONDS = 365 * 86_400;
const KID = /^[A-Za-z0-9._-]{1,200}$/;

/** A key set the register refuses; the message is what the self-service API answers. */
export class KeySetError extends Error {
  override name = "KeySetError";
}

/**
 * Validates a key set as the self-service API does (at most 5, unique valid kids, RSA public keys, `exp` no later
 * than a year ahead) and stamps each key's expiry: its own `exp`, else a year from `nowSeconds`.
 */
export function registeredKeys(
  jwks: readonly (JWK & { exp?: number })[],
  nowSeconds: number,
): Map<string, RegisteredKey> {
  if (jwks.length > MAX_CLIENT_KEYS) {
    throw new KeySetError(`a client may have at most ${MAX_CLIENT_KEYS} keys, got ${jwks.length}`);
  }
  const keys = new Map<string, RegisteredKey>();
  const latest = nowSeconds + KEY_REGISTRATION_SECONDS;
  for (const { exp, ...jwk } of jwks) {
    const kid = jwk.kid;
    if (typeof kid !== "string" || !KID.test(kid)) {
      throw new KeySetError("every key needs a kid of letters, digits, '.', '_' or '-'");
    }
    if (jwk.kty !== "RSA" || typeof jwk.n !== "string" || typeof jwk.e !== "string") {
      throw new KeySetError(`key ${kid} must be an RSA public key (Maskinporten accepts RS* only)`);
    }
    if ("d" in jwk) throw new KeySetError(`key ${kid} carries private key material`);
    if (keys.has(kid)) throw new KeySetError(`kid ${kid} appears twice`);
    if (exp !== undefined && (!Number.isInteger(exp) || exp > latest)) {
      throw new KeySetError(`key ${kid}: exp must be unix seconds no later than one year from now`);
    }
    keys.set(kid, { jwk: { ...jwk, kid }, exp: exp ?? latest });
  }
  return keys;
}

export function registerClient(registration: ClientRegistration, nowSeconds: number): RegisteredClient {
  const keys = registeredKeys(registration.jwks ?? [], nowSeconds);
  return {
    clientId: registration.clientId,
    orgNumber: registration.orgNumber ?? DEFAULT_CLIENT_ORG,
    keys,
    keysCreated: nowSeconds,
    keysUpdated: nowSeconds,
    trusted: (registration.trustedCertificates ?? []).map((pem) => new X509Certificate(pem)),
    scopes: new Set(registration.scopes),
    delegations: new Map((registration.delegations ?? []).map((d) => [d.consumerOrg, new Set(d.scopes)])),
    systemUsers: systemUsersByOrg(registration.systemUsers ?? []),
    consents: new Map(
      (registration.consents ?? []).map((c) => [
        c.id.toLowerCase(),
        registeredConsent(c, registration, nowSeconds),
      ]),
    ),
    onbehalfof: new Set(registration.onbehalfof ?? []),
  };
}

/** Altinn keeps one system user per organisation and externalRef for a system. */
function systemUsersByOrg(users: readonly SystemUser[]): Map<string, RegisteredSystemUser[]> {
  const byOrg = new Map<string, RegisteredSystemUser[]>();
  for (const user of users) {
    const externalRef = user.externalRef ?? user.orgNumber;
    const list = byOrg.get(user.orgNumber) ?? [];
    if (list.some((known) => known.externalRef === externalRef)) {
      throw new Error(`system user of ${user.orgNumber} with externalRef ${externalRef} registered twice`);
    }
    list.push({
      id: user.id ?? crypto.randomUUID(),
      externalRef,
      explicitRef: user.externalRef !== undefined,
    });
    byOrg.set(user.orgNumber, list);
  }
  return byOrg;
}

function registeredConsent(
  consent: ConsentRegistration,
  client: Pick<ClientRegistration, "orgNumber">,
  nowSeconds: number,
): RegisteredConsent {
  return {
    from: consent.from,
    to: consent.to ?? client.orgNumber ?? DEFAULT_CLIENT_ORG,
    scopes: new Set(consent.scopes),
    consented: consent.consented ?? new Date(nowSeconds * 1000).toISOString(),
    validTo: consent.validTo,
    consentRights: [
      {
        action: ["consent"],
        resource: [{ type: "urn:altinn:resource", value: consent.resource }],
        ...(consent.metadata === undefined ? {} : { metadata: consent.metadata }),
      },
    ],
  };
}
