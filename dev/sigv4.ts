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

function canonicalHeaderValue(value: string | undefined): string {
  return (value ?? "").replace(/\s+/g, " ").trim();
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

function sameSecret(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so timingSafeEqual neither throws nor leaks the length.
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

interface Authorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

/** Splits `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`; a string is the refusal message. */
function parseAuthorization(header: string): Authorization | string {
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
  const credential = (params.get("Credential") ?? "").split("/");
  if (credential.length !== 5) {
    return "Credential should be of the form <access key>/<date>/<region>/<service>/aws4_request.";
  }
  const [accessKeyId = "", date = "", region = "", service = "", terminator = ""] = credential;
  return {
    accessKeyId,
    date,
    region,
    service,
    terminator,
    signedHeaders: (params.get("SignedHeaders") ?? "").split(";"),
    signature: params.get("Signature") ?? "",
  };
}

export interface CanonicalParts {
  method: string;
  path: string;
  rawQuery: string;
  headers: Readonly<Record<string, string>>;
  signedHeaders: readonly string[];
  payloadHash: string;
}

export function canonicalRequest(parts: CanonicalParts): string {
  const headerLines = parts.signedHeaders.map(
    (name) => `${name}:${canonicalHeaderValue(parts.headers[name])}\n`,
  );
  return [
    parts.method,
    canonicalPath(parts.path),
    canonicalQuery(parts.rawQuery),
    headerLines.join(""),
    parts.signedHeaders.join(";"),
    parts.payloadHash,
  ].join("\n");
}

/** A verifier for the local gateway's `authenticate` hook. */
export function createSigV4Verifier(options: SigV4VerifierOptions): (request: SignedRequest) => SigV4Result {
  const service = options.service ?? "execute-api";
  const now = options.now ?? Date.now;
  const maxSkewMs = options.maxSkewMs ?? FIVE_MINUTES_MS;

  return (request) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;

    const header = headers.authorization;
    if (header === undefined || header.trim() === "") return deny(MISSING_TOKEN);
    const auth = parseAuthorization(header.trim());
    if (typeof auth === "string") return deny(auth);

    const xAmzDate = headers["x-amz-date"];
    const dateMs = headers.date === undefined ? Number.NaN : Date.parse(headers.date);
    const requestDate = xAmzDate ?? (Number.isNaN(dateMs) ? undefined : amzDate(dateMs));
    const requestMs = requestDate === undefined ? undefined : parseAmzDate(requestDate);
    if (requestDate === undefined || requestMs === undefined) {
      return deny("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    }
    if (auth.date !== requestDate.slice(0, 8)) {
      return deny(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: " +
          `'${auth.date}' != '${requestDate.slice(0, 8)}', from '${requestDate}'.`,
      );
    }
    if (auth.region !== options.region) {
      return deny(`Credential should be scoped to a valid region, not '${auth.region}'.`);
    }
    if (auth.service !== service)
      return deny(`Credential should be scoped to correct service: '${service}'.`);
    if (auth.terminator !== TERMINATOR) {
      return deny(
        `Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${auth.terminator}'.`,
      );
    }
    if (!auth.signedHeaders.includes("host")) {
      return deny("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    }

    const nowMs = now();
    if (requestMs < nowMs - maxSkewMs) {
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

    const known = options.lookup(auth.accessKeyId);
    if (known === undefined) return deny(INVALID_TOKEN);
    const token = headers["x-amz-security-token"];
    if (token !== undefined && !auth.signedHeaders.includes("x-amz-security-token")) {
      return deny("'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.");
    }
    const tokenMatches =
      known.sessionToken === undefined ? token === undefined : sameSecret(token ?? "", known.sessionToken);
    if (!tokenMatches) return deny(INVALID_TOKEN);

    const bodyHash = sha256Hex(request.body);
    const declaredHash = headers["x-amz-content-sha256"];
    if (declaredHash !== undefined && declaredHash !== bodyHash) {
      return deny("The provided 'x-amz-content-sha256' header does not match what was computed.");
    }

    const canonical = canonicalRequest({
      method: request.method,
      path: request.path,
      rawQuery: request.rawQuery,
      headers,
      signedHeaders: auth.signedHeaders,
      payloadHash: bodyHash,
    });
    const scope = `${auth.date}/${auth.region}/${auth.service}/${TERMINATOR}`;
    const stringToSign = [ALGORITHM, requestDate, scope, sha256Hex(canonical)].join("\n");
    const expected = hmac(signingKey(known.secretAccessKey, auth.date, auth.region, service), stringToSign);
    const provided = /^[0-9a-f]{64}$/.test(auth.signature)
      ? Buffer.from(auth.signature, "hex")
      : Buffer.alloc(0);
    if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
      return deny(
        `${SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have been\n'${canonical}'\n\n` +
          `The String-to-Sign should have been\n'${stringToSign}'\n`,
      );
    }
    return { ok: true, identity: localIdentity(auth.accessKeyId, known.principalArn) };
  };
}
