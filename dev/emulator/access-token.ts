// The emulator's access tokens: JWTs with Maskinporten's claim shape, signed with the emulator's own RSA key.
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from "jose";
import type { AuthorizedDetail } from "./authorization-details.ts";
import type { AcceptedGrant } from "./grant-check.ts";
import type { RegisteredClient } from "./registry.ts";

const ORG_AUTHORITY = "iso6523-actorid-upis";
const party = (orgNumber: string) => ({ authority: ORG_AUTHORITY, ID: `0192:${orgNumber}` });

export interface AccessTokenIssuer {
  /** The public key tokens are signed with (what Maskinporten publishes at /jwk). */
  publicJwk: JWK & { kid: string };
  issue(grant: AcceptedGrant, params: IssueParams): Promise<string>;
  /** The claims of a token this issuer signed for `issuer`, still valid at `nowSeconds`; undefined otherwise. */
  verify(token: string, issuer: string, nowSeconds: number): Promise<JWTPayload | undefined>;
}

export interface IssueParams {
  issuer: string;
  nowSeconds: number;
  expiresIn: number;
  jti: string;
}

export async function createAccessTokenIssuer(): Promise<AccessTokenIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { modulusLength: 2048 });
  const exported = await exportJWK(publicKey);
  const publicJwk = { ...exported, kid: await calculateJwkThumbprint(exported), alg: "RS256", use: "sig" };
  return {
    publicJwk,
    issue: (grant, params) =>
      new SignJWT(accessTokenClaims(grant, params))
        .setProtectedHeader({ alg: "RS256", kid: publicJwk.kid, typ: "at+jwt" })
        .sign(privateKey),
    verify: (token, issuer, nowSeconds) =>
      jwtVerify(token, publicKey, {
        issuer,
        algorithms: ["RS256"],
        currentDate: new Date(nowSeconds * 1000),
      }).then(
        ({ payload }) => payload,
        () => undefined,
      ),
  };
}

/**
 * What the token says about the system user or consent: never the system user's externalRef (Maskinporten does not
 * return it); for a consent, who gave it to whom, when, until when, and its rights.
 */
function authorizationDetail(detail: AuthorizedDetail, client: RegisteredClient): Record<string, unknown> {
  if (detail.type === "urn:altinn:systemuser") {
    return {
      type: detail.type,
      systemuser_id: [detail.id],
      systemuser_org: party(detail.orgNumber),
      system_id: `${client.orgNumber}_${client.clientId}`,
    };
  }
  const { to, consented, validTo, consentRights } = detail.consent;
  return {
    type: detail.type,
    id: detail.id,
    from: detail.from,
    to: party(to),
    consented,
    validTo,
    consentRights,
  };
}

/** Maskinporten's token claims: consumer is the party acted for; supplier appears when acting through a delegation. */
export function accessTokenClaims(grant: AcceptedGrant, params: IssueParams): Record<string, unknown> {
  const { client, claims } = grant;
  const delegated = claims.consumer_org !== undefined;
  return {
    iss: params.issuer,
    client_amr: grant.clientAmr,
    token_type: "Bearer",
    client_id: client.clientId,
    scope: grant.scopes.join(" "),
    consumer: party(claims.consumer_org ?? client.orgNumber),
    ...(delegated ? { supplier: party(client.orgNumber), delegation_source: "https://altinn.no/" } : {}),
    ...(claims.resource === undefined
      ? {}
      : { aud: claims.resource.length === 1 ? claims.resource[0] : claims.resource }),
    ...(grant.authorized === undefined
      ? {}
      : { authorization_details: [authorizationDetail(grant.authorized, client)] }),
    ...(claims.pid === undefined ? {} : { pid: claims.pid }),
    iat: params.nowSeconds,
    exp: params.nowSeconds + params.expiresIn,
    jti: params.jti,
  };
}
