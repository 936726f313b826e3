// The middy glue every route shares: one broker per cold start, the request id, JSON answers, errors -> problem+json.
import middy from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { diagnosticLogger, serviceName } from "../lib/audit/index.ts";
import type { Broker } from "../lib/broker/call.ts";
import { ConfigError } from "../lib/config/config-error.ts";
import { problemTypeBaseOf } from "../lib/config/index.ts";
import { problemResponse, toProblem } from "../lib/problem/index.ts";
import { installSourceMappedStacks } from "./source-maps.ts";

// Every function's stack traces name the TypeScript sources; the map is read only when a trace is made.
installSourceMappedStacks();

export type LambdaHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** A broker, or how to get one (called on every request; memoise it). */
export type BrokerSource = Promise<Broker> | (() => Promise<Broker>);

/** Memoises an async factory; a failure is not kept, so the next invocation tries again (a KMS hiccup at cold start). */
export function lazy<T>(factory: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= factory().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}

export const resolveBroker = (source: BrokerSource): Promise<Broker> =>
  typeof source === "function" ? source() : source;

/** API Gateway's request id (what the caller can quote), else the Lambda's. */
export function requestIdOf(event: APIGatewayProxyEvent, context: Context): string {
  return event.requestContext?.requestId || context.awsRequestId;
}

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}

const glueLogger = diagnosticLogger(serviceName());

export interface RouteOptions {
  /** What every problem's `type` starts with; by default PROBLEM_TYPE_BASE's, read when the handler is made. */
  problemTypeBase?: string;
}

/**
 * A route handler wrapped in middy: any error becomes problem+json, except an invalid configuration, which
 * is rethrown so the function fails like a refused start (and logs what to fix).
 */
export function routeHandler(
  route: (event: APIGatewayProxyEvent, requestId: string, context: Context) => Promise<APIGatewayProxyResult>,
  options: RouteOptions = {},
): LambdaHandler {
  const problemTypeBase = options.problemTypeBase ?? problemTypeBaseOf();
  // No early-timeout timer: nothing here reads the abort signal it would fire, and it costs a timer per request.
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: 0 })
    .onError(async (request) => {
      if (request.error instanceof ConfigError) {
        glueLogger.error("configuration_invalid", { reason: request.error.message });
        return;
      }
      const requestId = requestIdOf(request.event, request.context);
      const problem = toProblem(request.error);
      if (problem.code === "internal_error") {
        glueLogger.error("internal_error", {
          request_id: requestId,
          cause_name: problem.causeName ?? "unknown",
        });
      }
      request.response = problemResponse(problem, requestId, problemTypeBase);
    })
    .handler((event, context) => route(event, requestIdOf(event, context), context));
}
