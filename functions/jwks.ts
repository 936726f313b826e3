// GET /.well-known/jwks.json: the public key(s) grants are signed with, for registration at Maskinporten and audit.

import { defaultBroker } from "./default-broker.ts";
import {
  type BrokerSource,
  jsonResponse,
  type LambdaHandler,
  type RouteOptions,
  resolveBroker,
  routeHandler,
} from "./http.ts";

export function createJwksHandler(source: BrokerSource, options: RouteOptions = {}): LambdaHandler {
  return routeHandler(async () => {
    const broker = await resolveBroker(source);
    return jsonResponse(200, await broker.jwks(), { "Cache-Control": "max-age=300" });
  }, options);
}

export const handler: LambdaHandler = createJwksHandler(defaultBroker);
