// Each principal's grant budget on this instance: a token bucket of grants signed per minute (0 = no limit).
import { RateLimited, shownArn } from "../problem/index.ts";

export interface GrantBudgetOptions {
  /** Grants per principal per minute; also the burst a principal may spend at once. 0 turns the budget off. */
  perMinute: number;
  /** Monotonic clock, ms. */
  monotonic: () => number;
  /** Buckets kept; beyond it full buckets (which mean the same as none) are dropped, then the oldest. */
  maxPrincipals?: number;
}

interface Bucket {
  tokens: number;
  /** Monotonic ms of the last refill. */
  at: number;
}

/**
 * The budget as the broker spends it: one grant per load, counted per principal and client (each client counts on
 * its own), refused with 429 and when to try again; it remembers whose budget each refusal is about.
 */
export class PrincipalBudgets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly owners = new WeakMap<RateLimited, string>();
  /** Tokens regained per ms. */
  private readonly rate: number;
  private readonly maxPrincipals: number;

  constructor(private readonly options: GrantBudgetOptions) {
    this.rate = options.perMinute / 60_000;
    this.maxPrincipals = options.maxPrincipals ?? 10_000;
  }

  /** Spends one grant of `who`'s budget for `client`; throws RateLimited, saying when it may sign again (>= 1 s). */
  spend(who: string, client: string): void {
    const { perMinute } = this.options;
    if (perMinute <= 0) return;
    const key = `${client} ${who}`;
    const now = this.options.monotonic();
    const bucket = this.buckets.get(key) ?? this.added(key, now);
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * this.rate);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    // Whole milliseconds first: 1/3 of a token at 20 a minute is 1000 ms, not 1000.0000001.
    const retryAfterSeconds = Math.max(1, Math.ceil(Math.round((1 - bucket.tokens) / this.rate) / 1000));
    const refusal = new RateLimited(
      `${shownArn(who)} has spent its grant budget for client ${client} on this instance (${perMinute} grants a minute); cached tokens are still served`,
      retryAfterSeconds,
    );
    this.owners.set(refusal, who);
    throw refusal;
  }

  /** Whether `error` is another principal's spent budget: a caller who only waited on that load may try its own. */
  isOthers(error: unknown, who: string): boolean {
    return error instanceof RateLimited && this.owners.get(error) !== who;
  }

  private added(key: string, now: number): Bucket {
    if (this.buckets.size >= this.maxPrincipals) this.prune(now);
    const bucket = { tokens: this.options.perMinute, at: now };
    this.buckets.set(key, bucket);
    return bucket;
  }

  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * this.rate >= this.options.perMinute) this.buckets.delete(key);
    }
    const oldest = this.buckets.keys().next();
    if (this.buckets.size >= this.maxPrincipals && oldest.done !== true) this.buckets.delete(oldest.value);
  }
}
