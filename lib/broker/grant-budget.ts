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

export class GrantBudget {
  private readonly buckets = new Map<string, Bucket>();
  /** Tokens regained per ms. */
  private readonly rate: number;
  private readonly maxPrincipals: number;

  constructor(private readonly options: GrantBudgetOptions) {
    this.rate = options.perMinute / 60_000;
    this.maxPrincipals = options.maxPrincipals ?? 10_000;
  }

  /**
   * Spends one grant of `principal`'s budget: undefined when it may sign, else the whole seconds until it may
   * (at least 1).
   */
  spend(principal: string): number | undefined {
    const { perMinute } = this.options;
    if (perMinute <= 0) return undefined;
    const now = this.options.monotonic();
    const bucket = this.buckets.get(principal) ?? this.added(principal, now);
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * this.rate);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    // Whole milliseconds first: 1/3 of a token at 20 a minute is 1000 ms, not 1000.0000001.
    return Math.max(1, Math.ceil(Math.round((1 - bucket.tokens) / this.rate) / 1000));
  }

  private added(principal: string, now: number): Bucket {
    if (this.buckets.size >= this.maxPrincipals) this.prune(now);
    const bucket = { tokens: this.options.perMinute, at: now };
    this.buckets.set(principal, bucket);
    return bucket;
  }

  private prune(now: number): void {
    for (const [principal, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * this.rate >= this.options.perMinute)
        this.buckets.delete(principal);
    }
    const oldest = this.buckets.keys().next();
    if (this.buckets.size >= this.maxPrincipals && oldest.done !== true) this.buckets.delete(oldest.value);
  }
}

/**
 * The budget as the broker spends it: one grant per load, counted per principal and client (each client counts on
 * its own), refused with 429 and when to try again; it remembers whose budget each refusal is about.
 */
export class PrincipalBudgets {
  private readonly budget: GrantBudget;
  private readonly owners = new WeakMap<RateLimited, string>();

  constructor(private readonly options: GrantBudgetOptions) {
    this.budget = new GrantBudget(options);
  }

  spend(who: string, client: string): void {
    const retryAfterSeconds = this.budget.spend(`${client} ${who}`);
    if (retryAfterSeconds === undefined) return;
    const refusal = new RateLimited(
      `${shownArn(who)} has spent its grant budget for client ${client} on this instance (${this.options.perMinute} grants a minute); cached tokens are still served`,
      retryAfterSeconds,
    );
    this.owners.set(refusal, who);
    throw refusal;
  }

  /** Whether `error` is another principal's spent budget: a caller who only waited on that load may try its own. */
  isOthers(error: unknown, who: string): boolean {
    return error instanceof RateLimited && this.owners.get(error) !== who;
  }
}
