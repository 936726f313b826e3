// Config + request -> the JWT grant's header and claims (pure), and the compact JWS over a SigningKey.
import { consentParty } from "../request/consent.ts";
import type { TokenRequest } from "../request/types.ts";
import type { SigningKey } from "../signer/signer.ts";

/** The grant's lifetime; Maskinporten refuses more than 120 s. */
export const GRANT_LIFETIME_SECONDS = 30;

export interface SystemUserAuthorization {
  type: "urn:altinn:systemuser";
  systemuser_org: { authority: "iso6523-actorid-upis"; ID: string };
  externalRef?: string;
}

/** Altinn consent: `from` is `urn:altinn:person:identifier-no:<pid>` or `urn:altinn:organization:identifier-no:<orgno>`. */
export interface ConsentAuthorization {
  type: "urn:altinn:consent";
  id: string;
  from: string;
}

/** Exactly the claims Maskinporten lists; no others (it refuses unlisted claims). */
export interface GrantClaims {
  aud: string;
  iss: string;
  scope: string;
  iat: number;
  exp: number;
  jti: string;
  resource?: string[];
  consumer_org?: string;
  authorization_details?: [SystemUserAuthorization] | [ConsentAuthorization];
  pid?: string;
  iss_onbehalfof?: string;
}

export interface GrantParams {
  issuer: string;
  clientId: string;
  /** Seconds since the epoch. */
  now: number;
  /** A fresh UUID v4. */
  jti: string;
}

export function buildGrantClaims(request: TokenRequest, params: GrantParams): GrantClaims {
  const iat = Math.floor(params.now);
  const claims: GrantClaims = {
    aud: params.issuer,
    iss: params.clientId,
    scope: request.scopes.join(" "),
    iat,
    exp: iat + GRANT_LIFETIME_SECONDS,
    jti: params.jti,
  };
  if (request.resource !== undefined && request.resource.length > 0) claims.resource = [...request.resource];
  if (request.consumerOrg !== undefined) claims.consumer_org = request.consumerOrg;
  if (request.systemuserOrg !== undefined) {
    claims.authorization_details = [
      {
        type: "urn:altinn:systemuser",
        systemuser_org: { authority: "iso6523-actorid-upis", ID: `0192:${request.systemuserOrg}` },
        ...(request.systemuserExternalRef === undefined
          ? {}
          : { externalRef: request.systemuserExternalRef }),
      },
    ];
  }
  if (request.consent !== undefined) {
    claims.authorization_details = [
      { type: "urn:altinn:consent", id: request.consent.id, from: consentParty(request.consent) },
    ];
  }
  if (request.pid !== undefined) claims.pid = request.pid;
  if (request.onbehalfof !== undefined) claims.iss_onbehalfof = request.onbehalfof;
  return claims;
}

const base64url = (data: string | Uint8Array): string => Buffer.from(data).toString("base64url");

/** Signs the claims as a compact JWS with the key's own header; the private key is only touched by key.sign. */
export async function signGrant(key: SigningKey, claims: GrantClaims): Promise<string> {
  const header = base64url(JSON.stringify({ alg: key.alg, ...key.header }));
  const payload = base64url(JSON.stringify(claims));
  const signingInput = `${header}.${payload}`;
  const signature = await key.sign(Buffer.from(signingInput));
  return `${signingInput}.${base64url(signature)}`;
}
