// The emulator's client register: who may send grants, with which keys or certificates, for which scopes.
import { X509Certificate } from "node:crypto";
import type { JWK } from "jose";

/** A delegation in Altinn: `consumerOrg` lets this client act for it on `scopes`. */
export interface Delegation {
  consumerOrg: string;
  scopes: readonly string[];
}

/** An Altinn system user owned by `orgNumber`, granted `scopes`, that this client (the system) may act as. */
export interface SystemUser {
  orgNumber: string;
  scopes: readonly string[];
  /** Defaults to a fresh UUID. */
  id?: string;
}

export interface ClientRegistration {
  clientId: string;
  /** Public keys the client may name with `kid` (each must carry a `kid`). */
  jwks?: readonly (JWK & { kid: string })[];
  /** PEM certificates (a CA or the leaf itself) an `x5c` chain must end in. */
  trustedCertificates?: readonly string[];
  scopes: readonly string[];
  delegations?: readonly Delegation[];
  systemUsers?: readonly SystemUser[];
  /** The client's own organisation number (the token's `consumer`, or `supplier` when delegated). */
  orgNumber?: string;
}

export interface RegisteredClient {
  clientId: string;
  orgNumber: string;
  keys: ReadonlyMap<string, JWK>;
  trusted: readonly X509Certificate[];
  scopes: ReadonlySet<string>;
  delegations: ReadonlyMap<string, ReadonlySet<string>>;
  systemUsers: ReadonlyMap<string, { id: string; scopes: ReadonlySet<string> }>;
}

/** Digitaliseringsdirektoratet's organisation number: the default owner of an emulated client. */
export const DEFAULT_CLIENT_ORG = "991825827";

export function registerClient(registration: ClientRegistration): RegisteredClient {
  const keys = new Map<string, JWK>();
  for (const jwk of registration.jwks ?? []) {
    if (jwk.kty !== "RSA")
      throw new Error(`emulator: key ${jwk.kid} must be RSA (Maskinporten accepts RS* only)`);
    if (keys.has(jwk.kid)) throw new Error(`emulator: kid ${jwk.kid} registered twice`);
    keys.set(jwk.kid, jwk);
  }
  return {
    clientId: registration.clientId,
    orgNumber: registration.orgNumber ?? DEFAULT_CLIENT_ORG,
    keys,
    trusted: (registration.trustedCertificates ?? []).map((pem) => new X509Certificate(pem)),
    scopes: new Set(registration.scopes),
    delegations: new Map((registration.delegations ?? []).map((d) => [d.consumerOrg, new Set(d.scopes)])),
    systemUsers: new Map(
      (registration.systemUsers ?? []).map((u) => [
        u.orgNumber,
        { id: u.id ?? crypto.randomUUID(), scopes: new Set(u.scopes) },
      ]),
    ),
  };
}
