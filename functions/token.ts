// POST /token: the caller's identity and body in, a Maskinporten token (or a problem) out.
import type { APIGatewayProxyEvent } from "aws-lambda";
import type { RawTokenBody } from "../lib/request/index.ts";
import { defaultBroker } from "./default-broker.ts";
import { type BrokerSource, jsonResponse, type LambdaHandler, resolveBroker, routeHandler } from "./http.ts";

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

export function createTokenHandler(source: BrokerSource): LambdaHandler {
  return routeHandler(async (event, requestId) => {
    const broker = await resolveBroker(source);
    const identity = event.requestContext?.identity;
    const answer = await broker.token({
      caller: {
        userArn: identity?.userArn ?? null,
        accountId: identity?.accountId ?? null,
        sourceIp: identity?.sourceIp ?? null,
        vpceId: identity?.vpceId ?? null,
      },
      body: bodyOf(event),
      requestId,
    });
    return jsonResponse(200, answer.body, { "Cache-Control": "no-store", "X-Token-Cache": answer.cache });
  });
}

export const handler: LambdaHandler = createTokenHandler(defaultBroker);
