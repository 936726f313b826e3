// What both upstream clients are (Maskinporten, Altinn): transport and clocks injected or defaulted, the retry loop
// on their schedule, and one mapping of a non-2xx answer.
import { setTimeout as delay } from "node:timers/promises";
import { defaultTransport, type HttpResponse, type HttpTransport } from "../http/transport.ts";
import { type Upstream, UpstreamRejected } from "../problem/index.ts";
import { parseOAuthError } from "./response.ts";
import {
  type AttemptOutcome,
  DEFAULT_RETRY,
  parseRetryAfter,
  type RetryClock,
  type RetryOptions,
  type RetrySchedule,
  retryTransient,
  type TransientOutcome,
} from "./retry.ts";
import type { UpstreamDeps } from "./types.ts";

/**
 * A non-2xx answer: a 4xx other than 429 is a refusal, thrown as UpstreamRejected with the sanitised OAuth error
 * (never retried); anything else is transient, waiting at least its Retry-After.
 */
export function notOk(
  upstream: Upstream,
  response: HttpResponse,
  text: string,
  nowMs: number,
): TransientOutcome {
  const { status } = response;
  if (status >= 400 && status < 500 && status !== 429) {
    const { error, errorDescription } = parseOAuthError(text, status, upstream);
    throw new UpstreamRejected(status, error, errorDescription, upstream);
  }
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), nowMs);
  return {
    kind: "transient",
    outcome: `http_${status}`,
    status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/** What an upstream client may have injected: the transport and the clocks (each has a production default). */
export type RetryDeps = Pick<UpstreamDeps, "fetch" | "now" | "monotonic" | "random" | "sleep">;

/** What both upstream clients are: fetch and clocks, injected or defaulted, and the retry loop on their schedule. */
export abstract class RetryingUpstream {
  protected readonly fetch: HttpTransport;
  protected readonly now: () => number;
  protected readonly monotonic: () => number;
  private readonly schedule: RetrySchedule;
  private readonly clock: RetryClock;

  constructor(
    private readonly upstream: Upstream,
    options: RetryOptions,
    deps: RetryDeps,
  ) {
    this.fetch = deps.fetch ?? defaultTransport();
    this.now = deps.now ?? Date.now;
    this.monotonic = deps.monotonic ?? (() => performance.now());
    this.schedule = {
      timeoutMs: options.timeoutMs,
      maxRetries: options.maxRetries ?? DEFAULT_RETRY.maxRetries,
      maxWaitMs: options.maxWaitMs ?? DEFAULT_RETRY.maxWaitMs,
      budgetMs: options.budgetMs ?? DEFAULT_RETRY.budgetMs,
    };
    this.clock = {
      monotonic: this.monotonic,
      random: deps.random ?? Math.random,
      sleep: deps.sleep ?? ((ms) => delay(ms)),
    };
  }

  /** `attempt(1)`, `attempt(2)`, … as retryTransient runs them, naming this upstream when it gives up. */
  protected retrying<T>(attempt: (n: number) => Promise<AttemptOutcome<T>>): Promise<T> {
    return retryTransient(attempt, this.schedule, this.clock, this.upstream);
  }

  /** A non-2xx answer of this upstream (see notOk). */
  protected notOk(response: HttpResponse, text: string): TransientOutcome {
    return notOk(this.upstream, response, text, this.now());
  }
}
