// The broker: the one use case behind every route.
export type { Broker, CallerContext, TokenAnswer, TokenCall } from "./call.ts";
export { type BrokerDeps, createBroker, type PrebuiltParts } from "./compose.ts";
export { type HealthReport, healthOf } from "./health.ts";
export { TokenRecord } from "./token-record.ts";
