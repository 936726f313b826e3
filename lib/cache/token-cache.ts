// Single-flight, refresh-ahead, LRU cache of async results with an expiry on a monotonic clock; knows nothing about tokens' origin.
import { EntryTable } from "./entry-table.ts";

/** A loaded value and the monotonic instant (ms) it stops being valid. */
export interface Expiring<V> {
  value: V;
  expiresAt: number;
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

/** A freshly loaded value lives shorter than the caller's minimum: no retry can help that caller. */
export class LifetimeTooShort extends Error {
  override name = "LifetimeTooShort";
  constructor(
    readonly remainingSeconds: number,
    readonly minSeconds: number,
  ) {
    super(`a fresh value is valid for ${remainingSeconds} s, less than the ${minSeconds} s asked for`);
  }
}

/**
 * A stored value and when it was loaded (monotonic ms): its full lifetime is expiresAt - loadedAt. Entries form a
 * doubly linked list from least to most recently used, so a hit moves one and an eviction drops the head in O(1);
 * `slot` is where the entry sits in the table, so dropping it needs no lookup.
 */
interface Entry<V> extends Expiring<V> {
  key: string;
  slot: number;
  loadedAt: number;
  older: Entry<V> | undefined;
  newer: Entry<V> | undefined;
}

export class TokenCache<V> {
  private readonly entries = new EntryTable<Entry<V>>();
  private readonly inflight = new Map<string, Promise<Expiring<V>>>();
  /** Least recently used: evicted first. */
  private oldest: Entry<V> | undefined;
  /** Most recently used. */
  private newest: Entry<V> | undefined;
  /** The entry object evicted last, for the next insert to reuse. */
  private spare: Entry<V> | undefined;

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
    const hash = this.entries.hash(key);
    const entry = this.entries.find(key, hash);
    if (entry !== undefined) {
      const remaining = this.remainingSeconds(entry);
      if (remaining >= minSeconds) {
        this.touch(entry);
        if (remaining < minSeconds + this.options.refreshAheadSeconds && this.refreshWouldGain(entry, key)) {
          this.start(key, hash, load, "refresh").catch((error: unknown) =>
            this.options.onRefreshError?.(key, error),
          );
        }
        return { value: entry.value, remainingSeconds: remaining, outcome: "hit" };
      }
      if (remaining <= 0) this.remove(entry);
      else {
        // Values for this key live shorter than asked: loading another one now cannot help the caller, so
        // it is refused from the cache instead of costing a load per request (at most one load per lifetime).
        const lifetime = Math.floor((entry.expiresAt - entry.loadedAt) / 1000);
        if (lifetime < minSeconds) throw new LifetimeTooShort(lifetime, minSeconds);
      }
    }
    const running = this.inflight.get(key);
    const fresh = await (running ?? this.start(key, hash, load, "miss"));
    const remaining = this.remainingSeconds(fresh);
    if (remaining < minSeconds) throw new LifetimeTooShort(remaining, minSeconds);
    return {
      value: fresh.value,
      remainingSeconds: remaining,
      outcome: running === undefined ? "miss" : "coalesced",
    };
  }

  /**
   * A background refresh only when none is running and the value is at least refresh-ahead old: a value whose
   * whole lifetime lies inside the refresh window (min_ttl close to the lifetime) would otherwise be reloaded on
   * every hit, each new value no better than the last.
   */
  private refreshWouldGain(entry: Entry<V>, key: string): boolean {
    const ageMs = this.options.monotonic() - entry.loadedAt;
    return !this.inflight.has(key) && ageMs >= this.options.refreshAheadSeconds * 1000;
  }

  private remainingSeconds(entry: Expiring<V>): number {
    return Math.floor((entry.expiresAt - this.options.monotonic()) / 1000);
  }

  private start(
    key: string,
    hash: number,
    load: (trigger: LoadTrigger) => Promise<Expiring<V>>,
    trigger: LoadTrigger,
  ): Promise<Expiring<V>> {
    const promise = Promise.resolve()
      .then(() => load(trigger))
      .then((fresh) => {
        this.store(key, hash, fresh);
        return fresh;
      })
      .finally(() => {
        if (this.inflight.get(key) === promise) this.inflight.delete(key);
      });
    this.inflight.set(key, promise);
    return promise;
  }

  private store(key: string, hash: number, fresh: Expiring<V>): void {
    const previous = this.entries.find(key, hash);
    if (previous !== undefined) this.remove(previous);
    const now = this.options.monotonic();
    if (fresh.expiresAt <= now) return;
    // A full cache evicts its oldest entry first and reuses that object for the new one: a big cache then
    // allocates nothing per insert that the collector would have to move to the old generation.
    while (this.entries.size >= this.options.maxEntries && this.oldest !== undefined)
      this.evictOldest(this.oldest);
    const entry: Entry<V> = this.spare ?? {
      value: fresh.value,
      expiresAt: fresh.expiresAt,
      key,
      loadedAt: now,
      slot: -1,
      older: undefined,
      newer: undefined,
    };
    this.spare = undefined;
    entry.value = fresh.value;
    entry.expiresAt = fresh.expiresAt;
    entry.key = key;
    entry.loadedAt = now;
    this.entries.add(entry, hash);
    this.append(entry);
  }

  /** Marks `entry` most recently used. */
  private touch(entry: Entry<V>): void {
    if (entry === this.newest) return;
    this.unlink(entry);
    this.append(entry);
  }

  private remove(entry: Entry<V>): void {
    this.entries.remove(entry);
    this.unlink(entry);
  }

  /** Evicts the least recently used entry and keeps its object to reuse. */
  private evictOldest(oldest: Entry<V>): void {
    this.remove(oldest);
    this.spare = oldest;
  }

  private append(entry: Entry<V>): void {
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest === undefined) this.oldest = entry;
    else this.newest.newer = entry;
    this.newest = entry;
  }

  private unlink(entry: Entry<V>): void {
    if (entry.older === undefined) this.oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) this.newest = entry.older;
    else entry.newer.older = entry.older;
    entry.older = undefined;
    entry.newer = undefined;
  }
}
