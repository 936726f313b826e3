// GET /health: 200 once the configuration and policy have loaded; never touches KMS or Maskinporten.
import { type HealthReport, healthOf } from "../lib/broker/health.ts";
import { loadConfig } from "../lib/config/index.ts";
import { loadPolicy } from "../lib/policy/index.ts";
import { jsonResponse, type LambdaHandler, lazy, type RouteOptions, routeHandler } from "./http.ts";

/** Health from config and policy alone, so it needs no key permissions and no network. */
export function createHealthHandler(
  report: () => Promise<HealthReport>,
  options: RouteOptions = {},
): LambdaHandler {
  return routeHandler(
    async () => jsonResponse(200, await report(), { "Cache-Control": "no-store" }),
    options,
  );
}

const defaultReport = lazy(async () => {
  const config = loadConfig();
  await loadPolicy(
    config.policy,
    config.clients.map((client) => client.name),
  );
  return healthOf();
});

export const handler: LambdaHandler = createHealthHandler(defaultReport);
