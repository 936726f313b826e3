// The POST /token body, parsed once at the edge: size, media type, JSON, then every field (zod); errors name the field.
import * as z from "zod/mini";
import { CLIENT_NAME_PATTERN } from "../config/index.ts";
import {
  holdsDigitRun,
  InvalidRequest,
  maskDigitRuns,
  PayloadTooLarge,
  quoted,
  UnsupportedMediaType,
} from "../problem/index.ts";
import { isOrgNumber } from "./org-number.ts";
import { isPid, PID_ELSEWHERE, PID_MESSAGE } from "./pid.ts";
import { hasUserinfo, isResourceUri, MAX_RESOURCES, RESOURCE_RULE, USERINFO_MESSAGE } from "./resource.ts";
import { scopeSet, sortedSet, splitScope } from "./scope.ts";
import type { TokenRequest } from "./types.ts";

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
    .string({ error: `${field}: expected a string of 9 digits` })
    .check(
      z.refine(isOrgNumber, `${field}: expected a 9-digit organisation number with a valid check digit`),
    );

/** A pid never appears in a message: neither the value nor a part of it. */
const pid = (options: TokenRequestOptions) =>
  z
    .string({ error: PID_MESSAGE })
    .check(
      z.refine((value) => isPid(value, { allowSynthetic: options.environment === "test" }), PID_MESSAGE),
    );

const MIN_TTL_RULE = `min_ttl: expected an integer from 1 to ${MAX_MIN_TTL}`;
const CLIENT_RULE = "client: expected the name of a configured Maskinporten client";

const scope = z.pipe(
  z.string({ error: "scope: expected a string of space-separated scopes" }),
  z.transform((value: string, ctx) => {
    const split = splitScope(value);
    if ("error" in split) {
      ctx.issues.push({ code: "custom", message: `scope: ${split.error}`, input: value });
      return z.NEVER;
    }
    if (split.scopes.some(holdsDigitRun)) {
      ctx.issues.push({ code: "custom", message: `scope: a scope-token ${PID_ELSEWHERE}`, input: value });
      return z.NEVER;
    }
    return scopeSet(split.scopes);
  }),
);

const resource = z.pipe(
  z
    .union(
      [
        z.pipe(
          z.string(),
          z.transform((uri: string) => [uri]),
        ),
        z.array(z.string()),
      ],
      {
        error: `resource: expected an https URI or an array of 1 to ${MAX_RESOURCES} of them`,
      },
    )
    .check(
      z.refine(
        (list: string[]) => list.length >= 1 && list.length <= MAX_RESOURCES,
        `resource: expected 1 to ${MAX_RESOURCES} URIs`,
      ),
      z.refine((list: string[]) => !list.some(hasUserinfo), USERINFO_MESSAGE),
      z.refine((list: string[]) => list.every(isResourceUri), `resource: expected ${RESOURCE_RULE}`),
      z.refine((list: string[]) => !list.some(holdsDigitRun), `resource: a URI ${PID_ELSEWHERE}`),
    ),
  z.transform((list: string[]) => sortedSet(list)),
);

const bodySchema = (options: TokenRequestOptions) =>
  z
    .strictObject(
      {
        scope,
        resource: z.optional(resource),
        consumer_org: z.optional(orgNumber("consumer_org")),
        systemuser_org: z.optional(orgNumber("systemuser_org")),
        min_ttl: z._default(
          z.int({ error: MIN_TTL_RULE }).check(z.gte(1, MIN_TTL_RULE), z.lte(MAX_MIN_TTL, MIN_TTL_RULE)),
          DEFAULT_MIN_TTL,
        ),
        client: z.optional(
          z
            .string({ error: CLIENT_RULE })
            .check(z.regex(CLIENT_NAME_PATTERN, `${CLIENT_RULE} (letters, digits, '-', '_')`)),
        ),
        exchange: z.optional(z.literal("altinn", { error: 'exchange: expected "altinn"' })),
        pid: z.optional(pid(options)),
      },
      {
        error: (issue) =>
          issue.code === "unrecognized_keys"
            ? // A field name is echoed, but never a pid a caller put in one.
              `unknown field(s): ${issue.keys.map((k) => quoted(k, 50)).join(", ")}`
            : "body: expected a JSON object",
      },
    )
    .check(
      z.refine(
        (body) => body.consumer_org === undefined || body.systemuser_org === undefined,
        "consumer_org, systemuser_org: give at most one of them",
      ),
    );

type BodySchema = ReturnType<typeof bodySchema>;
/** One schema per environment, built on first use (a container only ever parses for its own). */
const SCHEMAS: { test?: BodySchema; prod?: BodySchema } = {};
const schemaFor = (options: TokenRequestOptions): BodySchema => {
  const schema = SCHEMAS[options.environment] ?? bodySchema(options);
  SCHEMAS[options.environment] = schema;
  return schema;
};

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
  const parsed = schemaFor(options).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // Every message is ours, but one that quotes the body must not carry a pid through.
    throw new InvalidRequest(maskDigitRuns(issue?.message ?? "body: invalid request"));
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

/** Distinct bodies a parser remembers: a container serves a handful of callers, each repeating its request. */
export const REMEMBERED_BODIES = 64;

/** One string per (Content-Type, base64 flag, body); the length prefix keeps any two apart. */
function memoKey(raw: RawTokenBody): string {
  const type = raw.contentType === undefined ? "-" : `${raw.contentType.length}:${raw.contentType}`;
  return `${type}|${raw.isBase64Encoded ? "b" : "t"}|${raw.body ?? ""}`;
}

/**
 * parseTokenRequest (with fixed options) remembering its successes for the last `capacity` distinct bodies (with
 * their Content-Type and base64 flag): a repeated request, the cache-hit path, gets the same frozen result without validating again. The
 * parse is a pure function of those three, so the answer is the one a fresh parse would give. Failures are not
 * kept. Bounded first in, first out: a ring of keys, so forgetting one is O(1).
 */
export function repeatingParser(
  options: TokenRequestOptions,
  capacity = REMEMBERED_BODIES,
): (raw: RawTokenBody) => ParsedTokenRequest {
  const remembered = new Map<string, ParsedTokenRequest>();
  const ring: (string | undefined)[] = new Array(capacity).fill(undefined);
  let next = 0;
  return (raw) => {
    const key = memoKey(raw);
    const known = remembered.get(key);
    if (known !== undefined) return known;
    const parsed = frozen(parseTokenRequest(raw, options));
    const forgotten = ring[next];
    if (forgotten !== undefined) remembered.delete(forgotten);
    ring[next] = key;
    next = (next + 1) % capacity;
    remembered.set(key, parsed);
    return parsed;
  };
}
