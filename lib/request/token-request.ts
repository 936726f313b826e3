// The POST /token body, parsed once at the edge: size, media type, JSON, then every field (zod); errors name the field.
import { z } from "zod";
import { CLIENT_NAME_PATTERN } from "../config/index.ts";
import type { TokenRequest } from "../grant/index.ts";
import { InvalidRequest, PayloadTooLarge, UnsupportedMediaType } from "../problem/index.ts";
import { isOrgNumber } from "./org-number.ts";
import { isPid, PID_MESSAGE } from "./pid.ts";
import { isResourceUri, MAX_RESOURCES, RESOURCE_RULE } from "./resource.ts";
import { scopeSet, sortedSet, splitScope } from "./scope.ts";

export const MAX_BODY_BYTES = 8 * 1024;
export const DEFAULT_MIN_TTL = 30;
export const MAX_MIN_TTL = 300;

/** The body as API Gateway hands it over. */
export interface RawTokenBody {
  body: string | null;
  isBase64Encoded: boolean;
  /** The Content-Type header, if any. */
  contentType: string | undefined;
}

/** What the parse depends on besides the body. */
export interface TokenRequestOptions {
  /** MASKINPORTEN_ENV: synthetic test identities are a valid `pid` only in "test". */
  environment: "test" | "prod";
}

export interface ParsedTokenRequest {
  request: TokenRequest;
  /** Seconds the returned token must still be valid. */
  minTtl: number;
}

const orgNumber = (field: string) =>
  z
    .string({ message: `${field}: expected a string of 9 digits` })
    .refine(isOrgNumber, `${field}: expected a 9-digit organisation number with a valid check digit`);

/** A pid never appears in a message: neither the value nor a part of it. */
const pid = (options: TokenRequestOptions) =>
  z
    .string({ message: PID_MESSAGE })
    .refine((value) => isPid(value, { allowSynthetic: options.environment === "test" }), PID_MESSAGE);

const bodySchema = (options: TokenRequestOptions) =>
  z
    .strictObject(
      {
        scope: z
          .string({ message: "scope: expected a string of space-separated scopes" })
          .transform((value, ctx) => {
            const split = splitScope(value);
            if ("error" in split) {
              ctx.addIssue({ code: "custom", message: `scope: ${split.error}` });
              return z.NEVER;
            }
            return scopeSet(split.scopes);
          }),
        resource: z
          .union([z.string().transform((uri) => [uri]), z.array(z.string())], {
            message: `resource: expected an https URI or an array of 1 to ${MAX_RESOURCES} of them`,
          })
          .refine(
            (list) => list.length >= 1 && list.length <= MAX_RESOURCES,
            `resource: expected 1 to ${MAX_RESOURCES} URIs`,
          )
          .refine((list) => list.every(isResourceUri), `resource: expected ${RESOURCE_RULE}`)
          .transform(sortedSet)
          .optional(),
        consumer_org: orgNumber("consumer_org").optional(),
        systemuser_org: orgNumber("systemuser_org").optional(),
        min_ttl: z
          .number({ message: `min_ttl: expected an integer from 1 to ${MAX_MIN_TTL}` })
          .int(`min_ttl: expected an integer from 1 to ${MAX_MIN_TTL}`)
          .min(1, `min_ttl: expected an integer from 1 to ${MAX_MIN_TTL}`)
          .max(MAX_MIN_TTL, `min_ttl: expected an integer from 1 to ${MAX_MIN_TTL}`)
          .default(DEFAULT_MIN_TTL),
        client: z
          .string({ message: "client: expected the name of a configured Maskinporten client" })
          .regex(
            CLIENT_NAME_PATTERN,
            "client: expected the name of a configured Maskinporten client (letters, digits, '-', '_')",
          )
          .optional(),
        exchange: z.literal("altinn", { message: 'exchange: expected "altinn"' }).optional(),
        pid: pid(options).optional(),
      },
      {
        error: (issue) =>
          issue.code === "unrecognized_keys"
            ? `unknown field(s): ${issue.keys.map((k) => JSON.stringify(k.slice(0, 50))).join(", ")}`
            : "body: expected a JSON object",
      },
    )
    .refine((body) => body.consumer_org === undefined || body.systemuser_org === undefined, {
      message: "consumer_org, systemuser_org: give at most one of them",
    });

/** One schema per environment, built once. */
const SCHEMAS = {
  test: bodySchema({ environment: "test" }),
  prod: bodySchema({ environment: "prod" }),
} as const;

/** Accepts `application/json` with optional parameters; a charset, when given, must be UTF-8. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const [type, ...params] = contentType.split(";").map((part) => part.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every((param) => {
    const [name, value] = param.split("=", 2).map((s) => s.trim());
    return name !== "charset" || value?.replace(/^"(.*)"$/, "$1") === "utf-8";
  });
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Parses the body or throws PayloadTooLarge, UnsupportedMediaType or InvalidRequest (naming the field). */
export function parseTokenRequest(raw: RawTokenBody, options: TokenRequestOptions): ParsedTokenRequest {
  const bytes = Buffer.from(raw.body ?? "", raw.isBase64Encoded ? "base64" : "utf8");
  if (bytes.length > MAX_BODY_BYTES) {
    throw new PayloadTooLarge(`body: at most ${MAX_BODY_BYTES} bytes, got ${bytes.length}`);
  }
  if (!isJsonMediaType(raw.contentType)) {
    throw new UnsupportedMediaType("Content-Type: expected application/json");
  }
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes));
  } catch {
    throw new InvalidRequest("body: expected a JSON object (malformed JSON or not UTF-8)");
  }
  const parsed = SCHEMAS[options.environment].safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidRequest(issue?.message ?? "body: invalid request");
  }
  const body = parsed.data;
  const request: TokenRequest = {
    scopes: body.scope,
    ...(body.resource === undefined ? {} : { resource: body.resource }),
    ...(body.consumer_org === undefined ? {} : { consumerOrg: body.consumer_org }),
    ...(body.systemuser_org === undefined ? {} : { systemuserOrg: body.systemuser_org }),
    ...(body.client === undefined ? {} : { client: body.client }),
    ...(body.pid === undefined ? {} : { pid: body.pid }),
    ...(body.exchange === undefined ? {} : { exchange: body.exchange }),
  };
  return { request, minTtl: body.min_ttl };
}

/** The parsed request, frozen all the way down: safe to hand to every request with the same body. */
function frozen(parsed: ParsedTokenRequest): ParsedTokenRequest {
  Object.freeze(parsed.request.scopes);
  if (parsed.request.resource !== undefined) Object.freeze(parsed.request.resource);
  Object.freeze(parsed.request);
  return Object.freeze(parsed);
}

/**
 * parseTokenRequest keeping its last success: the same body, base64 flag and Content-Type (a client repeating
 * its request, the cache-hit path) give that same frozen result without validating again. The parse is a pure
 * function of those three, so the answer is the one a fresh parse would give. Failures are not kept.
 */
export function repeatingParser(options: TokenRequestOptions): (raw: RawTokenBody) => ParsedTokenRequest {
  let last: (RawTokenBody & { parsed: ParsedTokenRequest }) | undefined;
  return (raw) => {
    if (
      last !== undefined &&
      last.body === raw.body &&
      last.isBase64Encoded === raw.isBase64Encoded &&
      last.contentType === raw.contentType
    ) {
      return last.parsed;
    }
    const parsed = frozen(parseTokenRequest(raw, options));
    last = { body: raw.body, isBase64Encoded: raw.isBase64Encoded, contentType: raw.contentType, parsed };
    return parsed;
  };
}
