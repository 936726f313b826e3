// The emulator's subset of Digdir's self-service API: GET / POST / DELETE of a client's JWKS, behind admin-token scopes.
import type { JWTPayload } from "jose";
import * as v from "valibot";
import { isRecord } from "../../lib/schema/index.ts";
import { KeySetError, type RegisteredClient, registeredKeys } from "./registry.ts";

export const JWKS_PATH = /^\/api\/v1\/clients\/([^/]+)\/jwks$/;
export const DCR_READ = "idporten:dcr.read";
export const DCR_WRITE = "idporten:dcr.write";

/** One self-service call as the emulator saw it: the scopes of the token it carried, and the answer. */
export interface AdminRequest {
  method: string;
  clientId: string;
  /** The admin token's scopes; empty when there was no valid token. */
  scopes: readonly string[];
  status: number;
}

export interface SelfServiceRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  /** The body as text; undefined when it was too large. */
  body: string | undefined;
}

export interface SelfServiceContext {
  clients: ReadonlyMap<string, RegisteredClient>;
  nowSeconds: number;
  /** The claims of an access token the emulator itself issued and that is still valid. */
  verifyToken(token: string): Promise<JWTPayload | undefined>;
  log: AdminRequest[];
}

export interface SelfServiceAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const PostedSet = v.object({
  keys: v.pipe(v.array(v.custom<Record<string, unknown>>(isRecord)), v.minLength(1)),
});

const error = (status: number, code: string, description: string): SelfServiceAnswer => ({
  status,
  body: { error: code, error_description: description },
  ...(status === 401 ? { headers: { "WWW-Authenticate": `Bearer error="${code}"` } } : {}),
});

/** The JWKS as the API answers it: each key with its `exp`. */
function jwksOf(client: RegisteredClient): Record<string, unknown> {
  return {
    created: new Date(client.keysCreated * 1000).toISOString(),
    last_updated: new Date(client.keysUpdated * 1000).toISOString(),
    keys: [...client.keys.values()].map(({ jwk, exp }) => ({ ...jwk, exp })),
  };
}

/** Answers a self-service request, or undefined when the path is not the API's. */
export async function selfService(
  request: SelfServiceRequest,
  ctx: SelfServiceContext,
): Promise<SelfServiceAnswer | undefined> {
  const match = JWKS_PATH.exec(request.path);
  if (match === null) return undefined;
  const clientId = decodeURIComponent(match[1] as string);
  const entry: AdminRequest = { method: request.method, clientId, scopes: [], status: 0 };
  ctx.log.push(entry);
  const answer = await answerFor(request, clientId, entry, ctx);
  entry.status = answer.status;
  return answer;
}

async function answerFor(
  request: SelfServiceRequest,
  clientId: string,
  entry: AdminRequest,
  ctx: SelfServiceContext,
): Promise<SelfServiceAnswer> {
  const required = { GET: DCR_READ, POST: DCR_WRITE, DELETE: DCR_WRITE }[request.method];
  if (required === undefined) {
    return {
      ...error(405, "invalid_request", "use GET, POST or DELETE"),
      headers: { Allow: "GET, POST, DELETE" },
    };
  }
  const bearer = /^Bearer (\S+)$/.exec(request.authorization ?? "")?.[1];
  const claims = bearer === undefined ? undefined : await ctx.verifyToken(bearer);
  if (claims === undefined)
    return error(401, "invalid_token", "a valid Maskinporten access token is required");
  entry.scopes = typeof claims.scope === "string" ? claims.scope.split(" ") : [];
  if (!entry.scopes.includes(required)) {
    return error(403, "insufficient_scope", `${request.method} needs a token for scope ${required}`);
  }
  const client = ctx.clients.get(clientId);
  const consumer = (claims.consumer as { ID?: unknown } | undefined)?.ID;
  if (client === undefined) return error(404, "not_found", `no client ${clientId}`);
  if (consumer !== `0192:${client.orgNumber}`) {
    return error(403, "access_denied", `client ${clientId} belongs to another organisation`);
  }
  if (request.method === "GET") return { status: 200, body: jwksOf(client) };
  if (request.method === "DELETE") {
    client.keys = new Map();
    client.keysUpdated = ctx.nowSeconds;
    return { status: 200, body: jwksOf(client) };
  }
  const posted = v.safeParse(PostedSet, parseJson(request.body));
  if (!posted.success) {
    return error(
      400,
      "invalid_request",
      'expected {"keys": [...]} with at least one key (DELETE removes all)',
    );
  }
  try {
    client.keys = registeredKeys(posted.output.keys as never, ctx.nowSeconds);
  } catch (refusal) {
    if (!(refusal instanceof KeySetError)) throw refusal;
    return error(400, "invalid_request", refusal.message);
  }
  client.keysUpdated = ctx.nowSeconds;
  return { status: 200, body: jwksOf(client) };
}

function parseJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
