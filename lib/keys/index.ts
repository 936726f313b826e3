// The registered keys' lifecycle through Digdir's self-service API: status, renew, rotate, retire, the daily watch.
export { type RegisteredJwk, SelfServiceApi } from "./admin-api.ts";
export type { AdminTokenRecord } from "./admin-token.ts";
export {
  KeyError,
  type KeyErrorCode,
  KeySetChanged,
  KeySetRefusal,
  KeyWatchFailed,
  SelfServiceError,
} from "./errors.ts";
export { MAX_REGISTERED_KEYS } from "./key-set.ts";
export { KeyLifecycle, type ManagedClient, type Renewal, type Rotation } from "./lifecycle.ts";
export { createKeyLifecycles, type KeySetupDeps } from "./setup.ts";
export { type KeyStatus, type KeyStatusReport, keyStatus } from "./status.ts";
export { KeyWatch, type KeyWatchSinks, type WatchedClient } from "./watch.ts";
