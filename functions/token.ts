// POST /token: the caller's identity and body in, a Maskinporten token (or a problem) out.
import type { APIGatewayProxyEvent } from "aws-lambda";
import { AuditTrail } from "../lib/audit/index.ts";
import { callerRecord, type TokenAnswer, type TokenCall } from "../lib/broker/broker.ts";
import { ConfigError } from "../lib/config/index.ts";
import { toProblem } from "../lib/problem/index.ts";
import type { RawTokenBody } from "../lib/request/index.ts";
import { defaultBroker } from "./default-broker.ts";
import {
  type BrokerSource,
  jsonTextResponse,
  type LambdaHandler,
  resolveBroker,
  routeHandler,
} from "./http.ts";

function contentTypeOf(headers: APIGatewayProxyEvent["headers"]): string | undefined {
  const name = Object.keys(headers ?? {}).find((h) => h.toLowerCase() === "content-type");
  return name === undefined ? undefined : headers[name];
}

function bodyOf(event: APIGatewayProxyEvent): RawTokenBody {
  return {
    body: event.body,
    isBase64Encoded: event.isBase64Encoded === true,
    contentType: contentTypeOf(event.headers),
  };
}

/** Tokens whose JSON the body writer keeps: one per cached token a container serves, within reason. */
const REMEMBERED_TOKENS = 64;

/**
 * `JSON.stringify(body)`, byte for byte, keeping the JSON of the last REMEMBERED_TOKENS access tokens (first in,
 * first out): cache hits serve the same few tokens again and again, and escaping ~1 KB anew is a good part of a
 * hit's own work. The same cached string comes back on every hit, so its hash is computed once.
 */
export function tokenBodyWriter(capacity = REMEMBERED_TOKENS): (body: TokenAnswer["body"]) => string {
  const json = new Map<string, string>();
  const ring: (string | undefined)[] = new Array(capacity).fill(undefined);
  let next = 0;
  const tokenJson = (token: string): string => {
    let known = json.get(token);
    if (known === undefined) {
      known = JSON.stringify(token);
      const forgotten = ring[next];
      if (forgotten !== undefined) json.delete(forgotten);
      ring[next] = token;
      next = (next + 1) % capacity;
      json.set(token, known);
    }
    return known;
  };
  return (body) => {
    const exchange = body.exchange === undefined ? "" : `,"exchange":${JSON.stringify(body.exchange)}`;
    return `{"access_token":${tokenJson(body.access_token)},"token_type":${JSON.stringify(body.token_type)},"expires_in":${JSON.stringify(body.expires_in)},"scope":${JSON.stringify(body.scope)}${exchange}}`;
  };
}

function tokenCallOf(event: APIGatewayProxyEvent, requestId: string): TokenCall {
  const identity = event.requestContext?.identity;
  return {
    caller: {
      userArn: identity?.userArn ?? null,
      accountId: identity?.accountId ?? null,
      sourceIp: identity?.sourceIp ?? null,
      vpceId: identity?.vpceId ?? null,
    },
    body: bodyOf(event),
    requestId,
  };
}

export interface TokenHandlerDeps {
  /** Audits the requests no broker could answer (its start failed); defaults to the container's. */
  audit?: AuditTrail;
  monotonic?: () => number;
}

/** One per container, like the broker's own: the broker's audit trail does not exist when its start fails. */
const containerAudit = new AuditTrail();

export function createTokenHandler(source: BrokerSource, deps: TokenHandlerDeps = {}): LambdaHandler {
  const bodyJson = tokenBodyWriter();
  const audit = deps.audit ?? containerAudit;
  const monotonic = deps.monotonic ?? (() => performance.now());
  return routeHandler(async (event, requestId) => {
    const started = monotonic();
    const call = tokenCallOf(event, requestId);
    const broker = await resolveBroker(source).catch((error: unknown) => {
      // An invalid configuration fails the function instead (routeHandler logs configuration_invalid).
      if (!(error instanceof ConfigError)) {
        const problem = toProblem(error);
        audit.startFailed({
          ...callerRecord(call).base,
          latency_ms: Math.round(monotonic() - started),
          code: problem.code,
          reason: problem.detail,
        });
      }
      throw error;
    });
    const answer = await broker.token(call);
    return jsonTextResponse(200, bodyJson(answer.body), {
      "Cache-Control": "no-store",
      "X-Token-Cache": answer.cache,
    });
  });
}

export const handler: LambdaHandler = createTokenHandler(defaultBroker);
