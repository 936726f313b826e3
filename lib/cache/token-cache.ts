// Single-flight, refresh-ahead, LRU cache of async results with an expiry on a monotonic clock; knows nothing about tokens' origin.

/** A loaded value and the monotonic instant (ms) it stops being valid. */
export interface Expiring<V> {
  value: V;
  expiresAt: number;
  /** The monotonic instant (ms) its life began, e.g. when the upstream answered; by default when it is stored. */
  since?: number;
}

export type CacheOutcome = "hit" | "miss" | "coalesced";

export interface CacheResult<V> {
  value: V;
  /** Whole seconds the value is still valid, now; always >= the requested minimum. */
  remainingSeconds: number;
  outcome: CacheOutcome;
}

/** Why a load runs: a caller waits for it ("miss"), or a still-valid value is renewed in the background ("refresh"). */
export type LoadTrigger = "miss" | "refresh";

export interface TokenCacheOptions {
  maxEntries: number;
  /** Renew a value this long before its remaining lifetime falls below the caller's minimum. */
  refreshAheadSeconds: number;
  /** Monotonic clock, ms. */
  monotonic: () => number;
  /** A background refresh failed; the old value stays and the failure is not cached. */
  onRefreshError?: (key: string, error: unknown) => void;
}

/**
 * Values for the key live `lifetimeSeconds`, less than twice the caller's minimum: one value could serve that
 * minimum for less than half its life, so meeting it would cost more than two loads per lifetime. No retry helps.
 */
export class LifetimeTooShort extends Error {
  override name = "LifetimeTooShort";
  constructor(
    readonly lifetimeSeconds: number,
    readonly minSeconds: number,
  ) {
    super(`values live ${lifetimeSeconds} s, less than twice the ${minSeconds} s asked for`);
  }
}

/** A stored value and when it was loaded (monotonic ms): its full lifetime is expiresAt - loadedAt. */
interface Entry<V> extends Expiring<V> {
  loadedAt: number;
}

/** A stored value's whole lifetime, to the nearest second. */
const lifetimeSeconds = (entry: Entry<unknown>): number =>
  Math.round((entry.expiresAt - entry.loadedAt) / 1000);

/** Whether a value living `lifetime` seconds may serve a minimum of `minSeconds`: for at least half its life. */
const servesHalfItsLife = (lifetime: number, minSeconds: number): boolean => 2 * minSeconds <= lifetime;

export class TokenCache<V> {
  /** In recency order, least recently used first: a hit deletes its key and sets it again at the end. */
  private readonly entries = new Map<string, Entry<V>>();
  /**
   * One live iterator over the keys, kept: it only ever passes keys it evicts, so its next key is the least
   * recently used, and it skips each deleted key once. A new `keys()` per eviction would walk every hole the
   * deletes left since the Map last compacted: measured O(n), 66 µs per eviction at 100,000 entries.
   */
  private readonly eldest = this.entries.keys();
  private readonly inflight = new Map<string, Promise<Expiring<V>>>();

  constructor(private readonly options: TokenCacheOptions) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The value for `key` valid for at least `minSeconds`: from the cache ("hit"), from a load this call
   * starts ("miss"), or from one already running ("coalesced"). A failed load rejects every waiter and
   * leaves nothing behind.
   */
  async get(
    key: string,
    minSeconds: number,
    load: (trigger: LoadTrigger) => Promise<Expiring<V>>,
  ): Promise<CacheResult<V>> {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      const remaining = this.remainingSeconds(entry);
      // Refused from the cache while a value lives: at most one load per lifetime for a minimum that is too long.
      const lifetime = lifetimeSeconds(entry);
      if (remaining > 0 && !servesHalfItsLife(lifetime, minSeconds)) {
        throw new LifetimeTooShort(lifetime, minSeconds);
      }
      if (remaining >= minSeconds) {
        this.touch(key, entry);
        if (remaining < minSeconds + this.options.refreshAheadSeconds && this.refreshWouldGain(entry, key)) {
          this.start(key, load, "refresh").catch((error: unknown) =>
            this.options.onRefreshError?.(key, error),
          );
        }
        return { value: entry.value, remainingSeconds: remaining, outcome: "hit" };
      }
      if (remaining <= 0) this.entries.delete(key);
    }
    const running = this.inflight.get(key);
    const fresh = await (running ?? this.start(key, load, "miss"));
    const remaining = this.remainingSeconds(fresh);
    const stored = this.entries.get(key);
    const lifetime = stored?.value === fresh.value ? lifetimeSeconds(stored) : remaining;
    if (remaining < minSeconds || !servesHalfItsLife(lifetime, minSeconds)) {
      throw new LifetimeTooShort(lifetime, minSeconds);
    }
    return {
      value: fresh.value,
      remainingSeconds: remaining,
      outcome: running === undefined ? "miss" : "coalesced",
    };
  }

  /**
   * A background refresh only when none is running and the value is at least refresh-ahead old and half its
   * lifetime old: a value whose life lies mostly inside the refresh window (min_ttl plus refresh-ahead close to the
   * lifetime) would otherwise be reloaded on every hit, each new value no better than the last. Misses come no
   * sooner either (a minimum is at most half the lifetime), so a key costs at most two loads per lifetime.
   */
  private refreshWouldGain(entry: Entry<V>, key: string): boolean {
    const ageMs = this.options.monotonic() - entry.loadedAt;
    return (
      !this.inflight.has(key) &&
      ageMs >= this.options.refreshAheadSeconds * 1000 &&
      2 * ageMs >= entry.expiresAt - entry.loadedAt
    );
  }

  private remainingSeconds(entry: Expiring<V>): number {
    return Math.floor((entry.expiresAt - this.options.monotonic()) / 1000);
  }

  private start(
    key: string,
    load: (trigger: LoadTrigger) => Promise<Expiring<V>>,
    trigger: LoadTrigger,
  ): Promise<Expiring<V>> {
    const promise = Promise.resolve()
      .then(() => load(trigger))
      .then((fresh) => {
        this.store(key, fresh);
        return fresh;
      })
      .finally(() => {
        if (this.inflight.get(key) === promise) this.inflight.delete(key);
      });
    this.inflight.set(key, promise);
    return promise;
  }

  private store(key: string, fresh: Expiring<V>): void {
    this.entries.delete(key);
    const now = this.options.monotonic();
    if (fresh.expiresAt <= now) return;
    while (this.entries.size >= this.options.maxEntries) {
      const eldest = this.eldest.next();
      if (eldest.done === true) break;
      this.entries.delete(eldest.value);
    }
    this.entries.set(key, { value: fresh.value, expiresAt: fresh.expiresAt, loadedAt: fresh.since ?? now });
  }

  /** Marks the entry under `key` most recently used. */
  private touch(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }
}
