// POST /token: the caller's identity and body in, a Maskinporten token (or a problem) out.
import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import type { AuditTrail } from "../lib/audit/index.ts";
import type { TokenCall } from "../lib/broker/call.ts";
import { TokenRecord } from "../lib/broker/token-record.ts";
import { ConfigError } from "../lib/config/config-error.ts";
import { toProblem } from "../lib/problem/index.ts";
import type { RawTokenBody } from "../lib/request/index.ts";
import { containerAudit, defaultBroker } from "./default-broker.ts";
import {
  type BrokerSource,
  jsonResponse,
  type LambdaHandler,
  type RouteOptions,
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

function tokenCallOf(event: APIGatewayProxyEvent, requestId: string, context: Context): TokenCall {
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
    remainingMs: context.getRemainingTimeInMillis(),
  };
}

export interface TokenHandlerDeps extends RouteOptions {
  /** Audits the requests no broker could answer (its start failed); defaults to the container's. */
  audit?: AuditTrail;
  monotonic?: () => number;
}

export function createTokenHandler(source: BrokerSource, deps: TokenHandlerDeps = {}): LambdaHandler {
  const audit = deps.audit ?? containerAudit;
  const monotonic = deps.monotonic ?? (() => performance.now());
  return routeHandler(async (event, requestId, context) => {
    const started = monotonic();
    const call = tokenCallOf(event, requestId, context);
    const broker = await resolveBroker(source).catch((error: unknown) => {
      // An invalid configuration fails the function instead (routeHandler logs configuration_invalid).
      if (!(error instanceof ConfigError)) {
        TokenRecord.of(call, { audit, monotonic }, started).startFailed(toProblem(error));
      }
      throw error;
    });
    const answer = await broker.token(call);
    return jsonResponse(200, answer.body, {
      "Cache-Control": "no-store",
      "X-Token-Cache": answer.cache,
    });
  }, deps);
}

export const handler: LambdaHandler = createTokenHandler(defaultBroker);
