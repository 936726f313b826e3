// The emulator's strict grant verification: every rule Maskinporten documents, each failure an OAuth error with its MP code.
import { createPublicKey, type KeyObject, X509Certificate } from "node:crypto";
import {
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from "jose";
import * as v from "valibot";
import { type AuthorizedDetail, checkAuthorizationDetails } from "./authorization-details.ts";
import { OAuthError } from "./oauth-error.ts";
import type { RegisteredClient } from "./registry.ts";

export { OAuthError } from "./oauth-error.ts";

export const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
export const GRANT_ALGS = ["RS256", "RS384", "RS512"] as const;
export const MAX_GRANT_LIFETIME_SECONDS = 120;
/** The only claims Maskinporten lists for a grant; any other is refused. */
export const ALLOWED_GRANT_CLAIMS: ReadonlySet<string> = new Set([
  "aud",
  "iss",
  "scope",
  "iat",
  "exp",
  "jti",
  "resource",
  "consumer_org",
  "authorization_details",
  "pid",
  "iss_onbehalfof",
]);

/** Each listed claim's shape, as Maskinporten checks it (MP-011 otherwise). */
export const GrantClaimsSchema = v.object({
  aud: v.string(),
  iss: v.pipe(v.string(), v.minLength(1)),
  scope: v.pipe(v.string(), v.minLength(1)),
  iat: v.pipe(v.number(), v.integer()),
  exp: v.pipe(v.number(), v.integer()),
  jti: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  resource: v.optional(v.pipe(v.array(v.pipe(v.string(), v.url())), v.minLength(1))),
  consumer_org: v.optional(v.pipe(v.string(), v.regex(/^\d{9}$/))),
  authorization_details: v.optional(v.unknown()),
  pid: v.optional(v.pipe(v.string(), v.regex(/^\d{11}$/, "expected an 11-digit national identity number"))),
  iss_onbehalfof: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/))),
});
export type VerifiedGrantClaims = v.InferOutput<typeof GrantClaimsSchema>;

export interface AcceptedGrant {
  client: RegisteredClient;
  claims: VerifiedGrantClaims;
  header: ProtectedHeaderParameters;
  scopes: readonly string[];
  /** How the client authenticated: a registered key, or a business certificate. */
  clientAmr: "private_key_jwt" | "virksomhetssertifikat";
  /** The system user or consent the grant's authorization_details named, as found. */
  authorized?: AuthorizedDetail;
}

/** Remembers every accepted jti until it could no longer be accepted anyway (exp + skew). */
export class JtiRegister {
  private readonly seen = new Map<string, number>();

  /** False when the jti was used before. */
  use(jti: string, exp: number, nowSeconds: number, skewSeconds: number): boolean {
    for (const [old, until] of this.seen) if (until < nowSeconds) this.seen.delete(old);
    if (this.seen.has(jti)) return false;
    this.seen.set(jti, exp + skewSeconds);
    return true;
  }
}

export interface GrantCheckContext {
  issuer: string;
  clients: ReadonlyMap<string, RegisteredClient>;
  nowSeconds: number;
  skewSeconds: number;
  jtis: JtiRegister;
}

const malformed = (text: string) => new OAuthError("invalid_request", "MP-011", text);
const invalidGrant = (code: string, text: string) => new OAuthError("invalid_grant", code, text);

/** Checks a token request form; returns the accepted grant or throws OAuthError. */
export async function checkGrant(form: URLSearchParams, ctx: GrantCheckContext): Promise<AcceptedGrant> {
  const grantType = form.getAll("grant_type");
  if (grantType.length !== 1) throw malformed("Invalid request: exactly one grant_type is required");
  if (grantType[0] !== JWT_BEARER) {
    throw new OAuthError("unsupported_grant_type", "MP-011", `Unsupported grant_type; use ${JWT_BEARER}`);
  }
  const assertions = form.getAll("assertion");
  if (assertions.length !== 1 || assertions[0] === "") {
    throw malformed("Invalid request: exactly one assertion is required");
  }
  const assertion = assertions[0] as string;

  let header: ProtectedHeaderParameters;
  let payload: JWTPayload;
  try {
    header = decodeProtectedHeader(assertion);
    payload = decodeJwt(assertion);
  } catch {
    throw malformed("Invalid assertion: not a signed JWT");
  }
  const alg = header.alg ?? "";
  if (!(GRANT_ALGS as readonly string[]).includes(alg)) {
    throw invalidGrant("MP-124", `Invalid assertion: alg "${alg}" not accepted; use RS256, RS384 or RS512`);
  }
  if ((header.kid === undefined) === (header.x5c === undefined)) {
    throw malformed("Invalid assertion: the header must carry exactly one of kid and x5c");
  }
  const unlisted = Object.keys(payload).filter((claim) => !ALLOWED_GRANT_CLAIMS.has(claim));
  if (unlisted.length > 0) throw malformed(`Invalid assertion: claim(s) not allowed: ${unlisted.join(", ")}`);
  const parsed = v.safeParse(GrantClaimsSchema, payload);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw malformed(`Invalid assertion: claim ${String(issue.path?.[0]?.key ?? "?")}: ${issue.message}`);
  }
  const claims = parsed.output;

  const client = ctx.clients.get(claims.iss);
  if (client === undefined) throw invalidGrant("MP-100", `Invalid assertion: unknown client ${claims.iss}`);
  if (claims.aud !== ctx.issuer) {
    throw invalidGrant("MP-110", `Invalid assertion: aud must be exactly the issuer ${ctx.issuer}`);
  }

  const { key, clientAmr } = verificationKey(header, client, ctx.nowSeconds);
  try {
    await compactVerify(assertion, key, { algorithms: [alg] });
  } catch {
    throw invalidGrant("MP-124", "Invalid assertion: signature verification failed");
  }

  checkLifetime(claims, ctx);
  if (!ctx.jtis.use(claims.jti, claims.exp, ctx.nowSeconds, ctx.skewSeconds)) {
    throw invalidGrant("MP-012", "Invalid assertion: the grant (jti) has already been used");
  }

  const scopes = claims.scope.split(" ");
  if (scopes.some((s) => s === ""))
    throw malformed("Invalid assertion: scope must be single-space separated");
  for (const scope of scopes) {
    if (!client.scopes.has(scope)) {
      throw new OAuthError(
        "invalid_scope",
        "MP-200",
        `Client ${client.clientId} is not allowed scope ${scope}`,
      );
    }
  }
  if (claims.consumer_org !== undefined && claims.iss_onbehalfof !== undefined) {
    throw malformed("Invalid assertion: consumer_org and iss_onbehalfof are mutually exclusive");
  }
  if (claims.consumer_org !== undefined) checkDelegation(client, claims.consumer_org, scopes);
  if (claims.iss_onbehalfof !== undefined && !client.onbehalfof.has(claims.iss_onbehalfof)) {
    throw malformed(
      `Invalid assertion. Invalid parameter value: iss_onbehalfof is not registered on client ${client.clientId}`,
    );
  }
  const accepted: AcceptedGrant = { client, claims, header, scopes, clientAmr };
  if (claims.authorization_details !== undefined) {
    accepted.authorized = checkAuthorizationDetails(claims.authorization_details, {
      client,
      scopes,
      consumerOrg: claims.consumer_org,
      nowSeconds: ctx.nowSeconds,
    });
    // A consent may come through a delegation (consumer_org); a system user acts for its own organisation.
    if (accepted.authorized.type === "urn:altinn:systemuser" && claims.consumer_org !== undefined) {
      throw malformed("Invalid assertion: consumer_org and a system user are mutually exclusive");
    }
  }
  return accepted;
}

function verificationKey(
  header: ProtectedHeaderParameters,
  client: RegisteredClient,
  nowSeconds: number,
): { key: KeyObject; clientAmr: AcceptedGrant["clientAmr"] } {
  if (header.kid !== undefined) {
    const registered = client.keys.get(header.kid);
    if (registered === undefined) {
      throw invalidGrant("MP-120", `Invalid assertion: kid ${header.kid} is not registered on the client`);
    }
    if (registered.exp <= nowSeconds) {
      throw invalidGrant("MP-121", `Invalid assertion: kid ${header.kid}: Expired key`);
    }
    const key = createPublicKey({ key: registered.jwk as never, format: "jwk" });
    return { key, clientAmr: "private_key_jwt" };
  }
  if (client.keys.size > 0) {
    throw new OAuthError("invalid_client", "MP-120", "Client has registered keys: sign with kid, not x5c");
  }
  const chain = certificateChain(header.x5c);
  const atMs = nowSeconds * 1000;
  for (const cert of chain) {
    if (Date.parse(cert.validFrom) > atMs || Date.parse(cert.validTo) < atMs) {
      throw invalidGrant("MP-121", "Invalid assertion: certificate expired or not yet valid");
    }
  }
  if (!chainsToTrusted(chain, client.trusted)) {
    throw invalidGrant("MP-120", "Invalid assertion: certificate not trusted for this client");
  }
  const leaf = chain[0] as X509Certificate;
  if (leaf.publicKey.asymmetricKeyType !== "rsa") {
    throw invalidGrant("MP-120", "Invalid assertion: certificate key must be RSA");
  }
  return { key: leaf.publicKey, clientAmr: "virksomhetssertifikat" };
}

function certificateChain(x5c: unknown): X509Certificate[] {
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > 10) {
    throw malformed("Invalid assertion: x5c must be a non-empty array of base64 DER certificates");
  }
  try {
    return x5c.map((der) => {
      if (typeof der !== "string") throw new TypeError("not a string");
      return new X509Certificate(Buffer.from(der, "base64"));
    });
  } catch {
    throw malformed("Invalid assertion: x5c holds something that is not a certificate");
  }
}

const issuedBy = (cert: X509Certificate, issuer: X509Certificate) =>
  cert.checkIssued(issuer) && cert.verify(issuer.publicKey);

/** Walks leaf-first: some certificate is trusted (or issued by a trusted one), every link before it verified. */
function chainsToTrusted(chain: readonly X509Certificate[], trusted: readonly X509Certificate[]): boolean {
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i] as X509Certificate;
    if (trusted.some((t) => t.fingerprint256 === cert.fingerprint256 || issuedBy(cert, t))) return true;
    const next = chain[i + 1];
    if (next === undefined || !issuedBy(cert, next)) return false;
  }
  return false;
}

function checkLifetime(claims: VerifiedGrantClaims, ctx: GrantCheckContext): void {
  if (claims.exp <= claims.iat || claims.exp - claims.iat > MAX_GRANT_LIFETIME_SECONDS) {
    throw invalidGrant(
      "MP-130",
      `Invalid assertion: exp - iat must be 1..${MAX_GRANT_LIFETIME_SECONDS} s, got ${claims.exp - claims.iat}`,
    );
  }
  if (claims.exp + ctx.skewSeconds < ctx.nowSeconds) {
    throw invalidGrant("MP-130", "Invalid assertion: the grant has expired (check the clock)");
  }
  if (claims.iat - ctx.skewSeconds > ctx.nowSeconds) {
    throw invalidGrant("MP-130", "Invalid assertion: iat is in the future (check the clock)");
  }
}

function checkDelegation(client: RegisteredClient, consumerOrg: string, scopes: readonly string[]): void {
  if (consumerOrg === client.orgNumber) {
    throw malformed("Invalid assertion: consumer_org must not be the client's own organisation");
  }
  const delegated = client.delegations.get(consumerOrg);
  for (const scope of scopes) {
    if (delegated?.has(scope) !== true) {
      throw new OAuthError(
        "invalid_scope",
        "MP-251",
        `Consumer ${consumerOrg} has not delegated access to scope ${scope} to supplier ${client.orgNumber}`,
      );
    }
  }
}
