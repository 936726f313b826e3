// The client of Digdir's self-service API for a Maskinporten client's registered keys: GET / POST / DELETE of its JWKS.
import * as v from "valibot";
import { isUpstreamUrl } from "../config/index.ts";
import { parseJson } from "../contract/index.ts";
import { isTimeout } from "../upstream/retry.ts";
import { defaultTransport, type HttpResponse, type HttpTransport } from "../upstream/transport.ts";
import { SelfServiceError } from "./errors.ts";

/** The scopes the self-service API asks of the admin token: reading the keys, and changing them. */
export const ADMIN_SCOPES = { read: "idporten:dcr.read", write: "idporten:dcr.write" } as const;
export type AdminScope = (typeof ADMIN_SCOPES)[keyof typeof ADMIN_SCOPES];

/** A key as registered on the client: the public JWK members, and `exp` (unix seconds) as the API answers it. */
export interface RegisteredJwk {
  kty: string;
  kid: string;
  alg?: string;
  use?: string;
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
  x5c?: string[];
  exp?: number;
}

const optionalString = v.optional(v.string());
const RegisteredJwkSchema = v.object({
  kty: v.pipe(v.string(), v.minLength(1)),
  kid: v.pipe(v.string(), v.minLength(1)),
  alg: optionalString,
  use: optionalString,
  n: optionalString,
  e: optionalString,
  crv: optionalString,
  x: optionalString,
  y: optionalString,
  x5c: v.optional(v.array(v.string())),
  exp: v.optional(v.pipe(v.number(), v.integer())),
});
const JwksAnswerSchema = v.object({ keys: v.array(RegisteredJwkSchema) });

/** The members posted back: public members only, never anything the answer added beyond them. */
export const POSTED_MEMBERS = ["kty", "alg", "use", "kid", "n", "e", "crv", "x", "y", "x5c", "exp"] as const;

/** Who asks the token endpoint for an admin token (one per scope), e.g. the broker's own Maskinporten client. */
export type AdminTokenSource = (scope: AdminScope) => Promise<string>;

export interface SelfServiceApiOptions {
  /** e.g. https://api.test.samarbeid.digdir.no (https; plain http only to a loopback host). */
  baseUrl: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

const MAX_DETAIL = 300;

export class SelfServiceApi {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly transport: HttpTransport;

  constructor(
    options: SelfServiceApiOptions,
    private readonly token: AdminTokenSource,
    deps: { fetch?: HttpTransport } = {},
  ) {
    if (!isUpstreamUrl(options.baseUrl)) {
      throw new TypeError("self-service API: expected an https URL (plain http only to a loopback host)");
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.transport = deps.fetch ?? defaultTransport();
  }

  /** Gets (or reuses) the admin token for `scope` now, so that a call right after waits for no token. */
  async authorize(scope: AdminScope): Promise<void> {
    await this.token(scope);
  }

  /** The client's registered keys, with their `exp`. */
  async getJwks(clientId: string): Promise<RegisteredJwk[]> {
    return this.call("GET", clientId, ADMIN_SCOPES.read);
  }

  /** Replaces the whole set (at most 5 keys, not empty); answers the set as registered. */
  async postJwks(clientId: string, keys: readonly RegisteredJwk[]): Promise<RegisteredJwk[]> {
    return this.call("POST", clientId, ADMIN_SCOPES.write, { keys });
  }

  /** Removes every key (an empty set cannot be posted). */
  async deleteJwks(clientId: string): Promise<void> {
    await this.call("DELETE", clientId, ADMIN_SCOPES.write);
  }

  private async call(
    method: "GET" | "POST" | "DELETE",
    clientId: string,
    scope: AdminScope,
    body?: unknown,
  ): Promise<RegisteredJwk[]> {
    const token = await this.token(scope);
    const url = `${this.baseUrl}/api/v1/clients/${encodeURIComponent(clientId)}/jwks`;
    let response: HttpResponse;
    let text: string;
    try {
      response = await this.transport(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        redirect: "manual",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const reason = isTimeout(error) ? "timed out" : "network error";
      throw new SelfServiceError("admin_unavailable", `${method} ${url}: ${reason}`);
    }
    const status = response.status;
    if (status >= 500 || status === 429) {
      throw new SelfServiceError("admin_unavailable", `${method} ${url}: HTTP ${status}`, status);
    }
    if (status < 200 || status >= 300) {
      throw new SelfServiceError(
        "admin_rejected",
        `${method} ${url}: HTTP ${status}${describeError(text)}`,
        status,
      );
    }
    if (method === "DELETE") return [];
    const parsed = v.safeParse(JwksAnswerSchema, parseJson(text));
    if (!parsed.success) {
      throw new SelfServiceError("admin_malformed", `${method} ${url}: the answer is not a JWKS`, status);
    }
    return parsed.output.keys.map(postable);
  }
}

/** Only the members a key is registered with; nothing else the answer may carry. */
export function postable(key: object): RegisteredJwk {
  const from = key as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const member of POSTED_MEMBERS) if (from[member] !== undefined) out[member] = from[member];
  return out as unknown as RegisteredJwk;
}

const ErrorBodySchema = v.object({
  error: v.optional(v.string()),
  error_description: v.optional(v.string()),
  message: v.optional(v.string()),
});

/** `: <error> <description>` from an error body, without control characters, shortened; nothing when unreadable. */
function describeError(text: string): string {
  const body = v.safeParse(ErrorBodySchema, parseJson(text));
  if (!body.success) return "";
  const { error, error_description, message } = body.output;
  const parts = [error, error_description ?? message].filter((p) => p !== undefined);
  if (parts.length === 0) return "";
  return `: ${parts
    .join(" ")
    .replace(/[\p{Cc}\p{Cf}\s]+/gu, " ")
    .slice(0, MAX_DETAIL)}`;
}
