// The in-memory token cache (single flight, refresh-ahead, LRU, monotonic lifetimes) and the refusal memory beside it.
export { RefusalMemory, type RefusalMemoryOptions } from "./refusals.ts";
export {
  type CacheOutcome,
  type CacheResult,
  type Expiring,
  LifetimeTooShort,
  type LoadTrigger,
  TokenCache,
  type TokenCacheOptions,
} from "./token-cache.ts";
