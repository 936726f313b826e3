// POST /token: the caller's identity and body in, a Maskinporten token (or a problem) out.
import type { APIGatewayProxyEvent } from "aws-lambda";
import type { TokenAnswer } from "../lib/broker/broker.ts";
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

/**
 * `JSON.stringify(body)`, byte for byte, keeping the JSON of the last access token: cache hits serve the same
 * token again and again, and escaping its ~1 KB anew is a good part of a hit's own work.
 */
export function tokenBodyWriter(): (body: TokenAnswer["body"]) => string {
  let lastToken = "";
  let lastTokenJson = '""';
  return (body) => {
    if (body.access_token !== lastToken) {
      lastToken = body.access_token;
      lastTokenJson = JSON.stringify(lastToken);
    }
    return `{"access_token":${lastTokenJson},"token_type":${JSON.stringify(body.token_type)},"expires_in":${JSON.stringify(body.expires_in)},"scope":${JSON.stringify(body.scope)}}`;
  };
}

export function createTokenHandler(source: BrokerSource): LambdaHandler {
  const bodyJson = tokenBodyWriter();
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
    return jsonTextResponse(200, bodyJson(answer.body), {
      "Cache-Control": "no-store",
      "X-Token-Cache": answer.cache,
    });
  });
}

export const handler: LambdaHandler = createTokenHandler(defaultBroker);
