// The in-memory token cache: single flight, refresh-ahead, LRU, monotonic lifetimes.
export {
  type CacheOutcome,
  type CacheResult,
  type Expiring,
  LifetimeTooShort,
  type LoadTrigger,
  TokenCache,
  type TokenCacheOptions,
} from "./token-cache.ts";
