// The broker: the one use case behind every route.
export {
  type Broker,
  type BrokerDeps,
  type CallerContext,
  callerRecord,
  createBroker,
  type TokenAnswer,
  type TokenCall,
} from "./broker.ts";
export { type HealthReport, healthOf } from "./health.ts";
