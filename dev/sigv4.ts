// Verifies an AWS Signature Version 4 request the way API Gateway's aws_iam authorizer does (node:crypto only).
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { SignedRequest } from "./gateway.ts";
import { type LocalIdentity, localIdentity } from "./identity.ts";

/** What the verifier needs to know about an access key. */
export interface KnownCredential {
  secretAccessKey: string;
  /** Set for temporary credentials: the request must carry this exact X-Amz-Security-Token, signed. */
  sessionToken?: string;
  principalArn: string;
}

export type SigV4Result = { ok: true; identity: LocalIdentity } | { ok: false; status: 403; message: string };

export interface SigV4VerifierOptions {
  region: string;
  /** The signing service; API Gateway's is `execute-api`. */
  service?: string;
  lookup: (accessKeyId: string) => KnownCredential | undefined;
  /** Wall clock in epoch milliseconds. */
  now?: () => number;
  /** How far X-Amz-Date may be from now; API Gateway allows 5 minutes. */
  maxSkewMs?: number;
  /** Derives (and may cache) signing keys; by default each verifier caches its own. */
  signingKeys?: SigningKeyDerivation;
}

export const ALGORITHM = "AWS4-HMAC-SHA256";
const TERMINATOR = "aws4_request";
const FIVE_MINUTES_MS = 5 * 60 * 1000;

export const MISSING_TOKEN = "Missing Authentication Token";
export const INVALID_TOKEN = "The security token included in the request is invalid.";
export const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. " +
  "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

const deny = (message: string): SigV4Result => ({ ok: false, status: 403, message });

/** ISO 8601 basic format, as X-Amz-Date carries it: 20250101T120000Z. */
export function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (m === null) return undefined;
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** RFC 3986 encoding of everything but the unreserved characters, as SigV4 prescribes. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return value;
  }
}

/** The path as received, dot and empty segments removed, encoded once more (non-S3 services double-encode). */
export function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && rawPath.endsWith("/") ? "/" : "";
  return `/${segments.map(uriEncode).join("/")}${trailing}`;
}

/** Parameters decoded, re-encoded with RFC 3986 and sorted by name, then value. */
export function canonicalQuery(rawQuery: string): string {
  const pairs = rawQuery
    .split("&")
    .filter((part) => part !== "")
    .map((part) => {
      const eq = part.indexOf("=");
      const name = eq < 0 ? part : part.slice(0, eq);
      const value = eq < 0 ? "" : part.slice(eq + 1);
      return [uriEncode(decode(name)), uriEncode(decode(value))] as const;
    });
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join("&");
}

/** One line of the canonical headers: each value trimmed, inner whitespace collapsed, repeats joined by ",". */
function canonicalHeaderValue(values: readonly string[] | undefined): string {
  return (values ?? []).map((value) => value.replace(/\s+/g, " ").trim()).join(",");
}

function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), TERMINATOR);
}

export type SigningKeyDerivation = typeof signingKey;

/**
 * `derive` memoised per secret, date, region and service: the four HMACs of a derivation are most of a
 * verification's cost, and a key serves a whole day. Bounded; the oldest derivation goes first.
 */
export function cachedSigningKeys(
  derive: SigningKeyDerivation = signingKey,
  maxEntries = 256,
): SigningKeyDerivation {
  const keys = new Map<string, Buffer>();
  return (secret, date, region, service) => {
    const id = JSON.stringify([secret, date, region, service]);
    let key = keys.get(id);
    if (key === undefined) {
      key = derive(secret, date, region, service);
      if (keys.size >= maxEntries) keys.delete(keys.keys().next().value ?? "");
      keys.set(id, key);
    }
    return key;
  };
}

function sameSecret(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so timingSafeEqual neither throws nor leaks the length.
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

/** What a request's signature claims, wherever it was carried (the Authorization header or the query string). */
interface Claim {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
  /** X-Amz-Date (or Date) in ISO 8601 basic format. */
  requestDate: string | undefined;
  securityToken: string | undefined;
  /** Presigned URLs only: seconds the signature stays valid after requestDate. */
  expiresSeconds?: number;
  canonicalQuery: string;
}

function splitCredential(
  credential: string,
): Pick<Claim, "accessKeyId" | "date" | "region" | "service" | "terminator"> | string {
  const parts = credential.split("/");
  if (parts.length !== 5)
    return "Credential should be of the form <access key>/<date>/<region>/<service>/aws4_request.";
  const [accessKeyId = "", date = "", region = "", service = "", terminator = ""] = parts;
  return { accessKeyId, date, region, service, terminator };
}

/** Splits `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`; a string is the refusal message. */
function headerClaim(header: string, headers: HeaderMap, rawQuery: string): Claim | string {
  const space = header.indexOf(" ");
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM)
    return `Unsupported authorization algorithm '${algorithm}'; expected ${ALGORITHM}.`;
  const params = new Map<string, string>();
  for (const part of header.slice(space + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ["Credential", "Signature", "SignedHeaders"].filter((name) => !params.get(name));
  if (missing.length > 0) {
    return missing.map((name) => `Authorization header requires '${name}' parameter.`).join(" ");
  }
  const credential = splitCredential(params.get("Credential") ?? "");
  if (typeof credential === "string") return credential;
  const signedHeaders = (params.get("SignedHeaders") ?? "").split(";");
  const token = headers.get("x-amz-security-token");
  if (token !== undefined && !signedHeaders.includes("x-amz-security-token")) {
    return "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.";
  }
  const xAmzDate = headers.get("x-amz-date")?.join(",");
  const dateMs = Date.parse(headers.get("date")?.join(",") ?? "");
  return {
    ...credential,
    signedHeaders,
    signature: params.get("Signature") ?? "",
    requestDate: xAmzDate ?? (Number.isNaN(dateMs) ? undefined : amzDate(dateMs)),
    securityToken: token?.join(","),
    canonicalQuery: canonicalQuery(rawQuery),
  };
}

const QUERY_AUTH = [
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
];
/** The longest validity a presigned SigV4 URL may claim: 7 days. */
const MAX_EXPIRES_SECONDS = 604_800;

/** The X-Amz-* parameters of a presigned URL; a string is the refusal message. */
function queryClaim(rawQuery: string): Claim | string {
  const params = new Map<string, string>();
  for (const part of rawQuery.split("&")) {
    const eq = part.indexOf("=");
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    if (!params.has(name)) params.set(name, decode(eq < 0 ? "" : part.slice(eq + 1)));
  }
  const missing = QUERY_AUTH.filter((name) => !params.get(name));
  if (missing.length > 0) {
    return (
      missing.map((name) => `AWS query-string parameters must include '${name}'.`).join(" ") +
      " Re-examine the query-string parameters."
    );
  }
  if (params.get("X-Amz-Algorithm") !== ALGORITHM) {
    return `Unsupported authorization algorithm '${params.get("X-Amz-Algorithm")}'; expected ${ALGORITHM}.`;
  }
  const expires = params.get("X-Amz-Expires") ?? "";
  const expiresSeconds = /^\d{1,7}$/.test(expires) ? Number(expires) : Number.NaN;
  if (!(expiresSeconds >= 1 && expiresSeconds <= MAX_EXPIRES_SECONDS)) {
    return `X-Amz-Expires must be a number of seconds from 1 to ${MAX_EXPIRES_SECONDS}, not '${expires}'.`;
  }
  const credential = splitCredential(params.get("X-Amz-Credential") ?? "");
  if (typeof credential === "string") return credential;
  const unsigned = rawQuery
    .split("&")
    .filter(
      (part) =>
        decode(part.slice(0, part.indexOf("=") < 0 ? part.length : part.indexOf("="))) !== "X-Amz-Signature",
    )
    .join("&");
  return {
    ...credential,
    signedHeaders: (params.get("X-Amz-SignedHeaders") ?? "").split(";"),
    signature: params.get("X-Amz-Signature") ?? "",
    requestDate: params.get("X-Amz-Date"),
    securityToken: params.get("X-Amz-Security-Token"),
    expiresSeconds,
    canonicalQuery: canonicalQuery(unsigned),
  };
}

export interface CanonicalParts {
  method: string;
  path: string;
  canonicalQuery: string;
  headers: HeaderMap;
  signedHeaders: readonly string[];
  payloadHash: string;
}

export function canonicalRequest(parts: CanonicalParts): string {
  const headerLines = parts.signedHeaders.map(
    (name) => `${name}:${canonicalHeaderValue(parts.headers.get(name))}\n`,
  );
  return [
    parts.method,
    canonicalPath(parts.path),
    parts.canonicalQuery,
    headerLines.join(""),
    parts.signedHeaders.join(";"),
    parts.payloadHash,
  ].join("\n");
}

/** Header values by lower-case name, every line of a repeated header in arrival order; no prototype to trip on. */
export type HeaderMap = ReadonlyMap<string, readonly string[]>;

function headerMap(headers: SignedRequest["headers"]): HeaderMap {
  const map = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    map.set(key, [...(map.get(key) ?? []), ...(typeof value === "string" ? [value] : value)]);
  }
  return map;
}

function hasQueryAuth(rawQuery: string): boolean {
  return rawQuery.split("&").some((part) => decode(part.split("=", 1)[0] ?? "") === "X-Amz-Algorithm");
}

/** A verifier for the local gateway's `authenticate` hook. */
export function createSigV4Verifier(options: SigV4VerifierOptions): (request: SignedRequest) => SigV4Result {
  const service = options.service ?? "execute-api";
  const now = options.now ?? Date.now;
  const maxSkewMs = options.maxSkewMs ?? FIVE_MINUTES_MS;
  const keyFor = options.signingKeys ?? cachedSigningKeys();

  return (request) => {
    const headers = headerMap(request.headers);
    const header = headers.get("authorization")?.join(",").trim();
    const presigned = hasQueryAuth(request.rawQuery);
    if ((header === undefined || header === "") && !presigned) return deny(MISSING_TOKEN);
    if (header !== undefined && presigned) {
      return deny(
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string " +
          "parameter or the Authorization header should be specified",
      );
    }
    const claim =
      header !== undefined ? headerClaim(header, headers, request.rawQuery) : queryClaim(request.rawQuery);
    if (typeof claim === "string") return deny(claim);

    const { requestDate } = claim;
    const requestMs = requestDate === undefined ? undefined : parseAmzDate(requestDate);
    if (requestDate === undefined || requestMs === undefined) {
      return deny("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    }
    if (claim.date !== requestDate.slice(0, 8)) {
      return deny(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: " +
          `'${claim.date}' != '${requestDate.slice(0, 8)}', from '${requestDate}'.`,
      );
    }
    if (claim.region !== options.region) {
      return deny(`Credential should be scoped to a valid region, not '${claim.region}'.`);
    }
    if (claim.service !== service)
      return deny(`Credential should be scoped to correct service: '${service}'.`);
    if (claim.terminator !== TERMINATOR) {
      return deny(
        `Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${claim.terminator}'.`,
      );
    }
    if (!claim.signedHeaders.includes("host")) {
      return deny("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    }

    const nowMs = now();
    if (claim.expiresSeconds !== undefined && nowMs > requestMs + claim.expiresSeconds * 1000) {
      return deny(
        `Signature expired: ${amzDate(requestMs + claim.expiresSeconds * 1000)} is now earlier than ` +
          `${amzDate(nowMs)} (X-Amz-Date ${requestDate} + X-Amz-Expires ${claim.expiresSeconds} s).`,
      );
    }
    if (claim.expiresSeconds === undefined && requestMs < nowMs - maxSkewMs) {
      return deny(
        `Signature expired: ${requestDate} is now earlier than ${amzDate(nowMs - maxSkewMs)} ` +
          `(${amzDate(nowMs)} - 5 min.)`,
      );
    }
    if (requestMs > nowMs + maxSkewMs) {
      return deny(
        `Signature not yet current: ${requestDate} is still later than ${amzDate(nowMs + maxSkewMs)} ` +
          `(${amzDate(nowMs)} + 5 min.)`,
      );
    }

    const known = options.lookup(claim.accessKeyId);
    if (known === undefined) return deny(INVALID_TOKEN);
    // A long-term key carries no session token, and a temporary one must carry exactly its own.
    const tokenMatches =
      known.sessionToken === undefined
        ? claim.securityToken === undefined
        : sameSecret(claim.securityToken ?? "", known.sessionToken);
    if (!tokenMatches) return deny(INVALID_TOKEN);

    const bodyHash = sha256Hex(request.body);
    const declaredHash = headers.get("x-amz-content-sha256")?.join(",");
    if (declaredHash !== undefined && declaredHash !== bodyHash) {
      return deny("The provided 'x-amz-content-sha256' header does not match what was computed.");
    }

    const canonical = canonicalRequest({
      method: request.method,
      path: request.path,
      canonicalQuery: claim.canonicalQuery,
      headers,
      signedHeaders: claim.signedHeaders,
      payloadHash: bodyHash,
    });
    const scope = `${claim.date}/${claim.region}/${claim.service}/${TERMINATOR}`;
    const stringToSign = [ALGORITHM, requestDate, scope, sha256Hex(canonical)].join("\n");
    const expected = hmac(keyFor(known.secretAccessKey, claim.date, claim.region, service), stringToSign);
    const provided = /^[0-9a-f]{64}$/.test(claim.signature)
      ? Buffer.from(claim.signature, "hex")
      : Buffer.alloc(0);
    if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
      return deny(
        `${SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have been\n'${canonical}'\n\n` +
          `The String-to-Sign should have been\n'${stringToSign}'\n`,
      );
    }
    return { ok: true, identity: localIdentity(claim.accessKeyId, known.principalArn) };
  };
}
