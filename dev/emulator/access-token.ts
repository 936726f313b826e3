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
import type { AcceptedGrant } from "./grant-check.ts";

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
    ...(grant.systemUser === undefined
      ? {}
      : {
          authorization_details: [
            {
              type: "urn:altinn:systemuser",
              systemuser_id: [grant.systemUser.id],
              systemuser_org: party(grant.systemUser.orgNumber),
              system_id: `${client.orgNumber}_${client.clientId}`,
            },
          ],
        }),
    ...(claims.pid === undefined ? {} : { pid: claims.pid }),
    iat: params.nowSeconds,
    exp: params.nowSeconds + params.expiresIn,
    jti: params.jti,
  };
}
