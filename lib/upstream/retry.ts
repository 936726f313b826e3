// Retrying an upstream call: the runtime and attempt loop every upstream client shares, on the contract backoff.
import { backoffMs, parseRetryAfter } from "../contract/index.ts";
import { UPSTREAM_NAMES, type Upstream, UpstreamRejected, UpstreamUnavailable } from "../problem/index.ts";
import { type Deadline, DeadlinePassed, noDeadline } from "./deadline.ts";
import { parseOAuthError } from "./oauth-error.ts";
import { BodyTooLarge, defaultTransport, type HttpTransport } from "./transport.ts";

/** The upstream clients' injectables (Maskinporten, Altinn, self-service API); everything has a production default. */
export interface UpstreamDeps {
  /** The HTTP client: a node:https keep-alive transport by default; `fetch` fits. */
  fetch?: HttpTransport | undefined;
  /** Wall clock, epoch ms (grant iat/exp). */
  now?: (() => number) | undefined;
  /** Monotonic clock, ms. */
  monotonic?: (() => number) | undefined;
  randomUUID?: (() => string) | undefined;
  /** [0,1) for jitter. */
  random?: (() => number) | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Called when Maskinporten's Date header differs from our clock by more than 5 s. */
  onClockSkew?: ((skewMs: number) => void) | undefined;
}

/** The longest Retry-After passed on to a caller: an upstream's "come back tomorrow" must not park our callers. */
export const MAX_RETRY_AFTER_SECONDS = 300;

/** What one upstream attempt came to: a value, or a failure another attempt may cure. */
export type AttemptOutcome<T> = { kind: "ok"; value: T } | TransientOutcome;

export interface TransientOutcome {
  kind: "transient";
  /** e.g. "timeout", "network", "http_503", "malformed_body". */
  outcome: string;
  status?: number | undefined;
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

/** What a retry loop throws once its retries end, from the last outcome and the number of attempts made. */
export type GiveUp = (last: TransientOutcome, attempts: number) => Error;

export interface RetrySchedule {
  /** Per attempt. */
  timeoutMs: number;
  /** Retries after the first attempt. */
  maxRetries: number;
  /** Longest single wait between attempts; a Retry-After beyond it ends the retries. */
  maxWaitMs: number;
  /** Time for all attempts and waits together. */
  budgetMs: number;
}

/** The defaults every upstream client uses: three attempts, waits up to 3 s, 25 s in all (inside API Gateway's 29 s). */
export const DEFAULT_RETRY = { maxRetries: 2, maxWaitMs: 3000, budgetMs: 25_000 } as const;

export interface RetryClock {
  monotonic: () => number;
  /** [0,1) for jitter. */
  random: () => number;
  sleep: (ms: number) => Promise<void>;
}

/** What every upstream client builds from its injectables: transport, clocks, and its retry loop. */
export interface UpstreamRuntime {
  fetch: HttpTransport;
  /** Wall clock, epoch ms. */
  now: () => number;
  /** Monotonic clock, ms. */
  monotonic: () => number;
  /** Runs attempts under the client's schedule and the request's deadline until one answers or the retries end. */
  retry<T>(attempt: (n: number) => Promise<AttemptOutcome<T>>, deadline: Deadline): Promise<T>;
}

/**
 * A client's runtime: the injected transport and clocks or their production defaults (keep-alive transport,
 * Date.now, performance.now, Math.random, a real sleep), and its schedule (its timeout, the rest as given or by
 * default). Its retries end in UpstreamUnavailable naming `upstream`, or in what `giveUp` makes of the last outcome.
 */
export function upstreamRuntime(
  options: Pick<RetrySchedule, "timeoutMs"> & Partial<RetrySchedule>,
  deps: Pick<UpstreamDeps, "fetch" | "now" | "monotonic" | "random" | "sleep">,
  upstream: Upstream | GiveUp,
): UpstreamRuntime {
  const monotonic = deps.monotonic ?? (() => performance.now());
  const schedule: RetrySchedule = {
    timeoutMs: options.timeoutMs,
    maxRetries: options.maxRetries ?? DEFAULT_RETRY.maxRetries,
    maxWaitMs: options.maxWaitMs ?? DEFAULT_RETRY.maxWaitMs,
    budgetMs: options.budgetMs ?? DEFAULT_RETRY.budgetMs,
  };
  const clock: RetryClock = {
    monotonic,
    random: deps.random ?? Math.random,
    // The global timer: node:timers/promises would be one more module to load at every cold start.
    sleep: deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  };
  return {
    fetch: deps.fetch ?? defaultTransport(),
    now: deps.now ?? Date.now,
    monotonic,
    retry: (attempt, deadline) => retryTransient(attempt, schedule, clock, upstream, deadline),
  };
}

/**
 * A non-2xx answer: a redirect throws UpstreamUnavailable and a 4xx other than 429 UpstreamRejected (its OAuth
 * error passed on), neither retried; anything else is transient, with the wait its Retry-After asks for.
 */
export function failedAnswer(
  response: { readonly status: number; readonly headers: { get(name: string): string | null } },
  text: string,
  nowMs: number,
  upstream: Upstream,
): TransientOutcome {
  const status = response.status;
  if (status >= 300 && status < 400) {
    // Never followed (the grant or token would go wherever Location says), and no retry will answer differently.
    const where = upstream === "altinn" ? "ALTINN_EXCHANGE_URL" : "the token URL";
    throw new UpstreamUnavailable(
      `${UPSTREAM_NAMES[upstream]} answered ${status}, a redirect, which the broker does not follow (check ${where})`,
      { upstreamStatus: status, upstream },
    );
  }
  if (status >= 400 && status < 500 && status !== 429) {
    const { error, errorDescription } = parseOAuthError(text, status, upstream);
    throw new UpstreamRejected(status, error, errorDescription, upstream);
  }
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), nowMs);
  return { kind: "transient", outcome: `http_${status}`, status, retryAfterMs };
}

/**
 * Runs `attempt(1)`, `attempt(2)`, … until one is ok or the schedule or the deadline is spent, then throws
 * UpstreamUnavailable naming `upstream` and the last outcome (or what `giveUp` makes of it). An attempt that must not be retried throws, and that
 * ends it at once. The next attempt is expected to take as long as the last one did (its sign included), at least
 * a whole timeout: a retry that could not finish before the budget or the deadline is not started.
 */
export async function retryTransient<T>(
  attempt: (n: number) => Promise<AttemptOutcome<T>>,
  schedule: RetrySchedule,
  clock: RetryClock,
  upstream: Upstream | GiveUp,
  deadline: Deadline = noDeadline(),
): Promise<T> {
  const giveUp = typeof upstream === "function" ? upstream : unavailableFrom(upstream);
  const started = clock.monotonic();
  const end = Math.min(started + schedule.budgetMs, deadline.at);
  for (let n = 1; ; n++) {
    const attemptStarted = clock.monotonic();
    const result = await attempt(n);
    if (result.kind === "ok") return result.value;
    if (deadline.passed) throw giveUp({ ...result, outcome: "deadline" }, n);
    const wait = Math.max(backoffMs(n, clock.random()), result.retryAfterMs ?? 0);
    const now = clock.monotonic();
    const next = Math.max(schedule.timeoutMs, now - attemptStarted);
    const exhausted = n > schedule.maxRetries || wait > schedule.maxWaitMs || now + wait + next > end;
    if (exhausted) throw giveUp(result, n);
    await clock.sleep(wait);
  }
}

/** The broker's upstreams end their retries in UpstreamUnavailable (503 upstream_unavailable to the caller). */
const unavailableFrom =
  (upstream: Upstream): GiveUp =>
  (last, attempts) => {
    const detail =
      last.outcome === "deadline"
        ? `${UPSTREAM_NAMES[upstream]} gave no answer before the request's deadline (${attempts} attempt(s))`
        : `${UPSTREAM_NAMES[upstream]} unavailable after ${attempts} attempt(s) (last: ${last.outcome})`;
    return new UpstreamUnavailable(detail, {
      upstream,
      cause: last.cause,
      causeName: last.cause instanceof Error ? last.cause.name : undefined,
      retryAfterSeconds:
        last.retryAfterMs === undefined
          ? undefined
          : Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(last.retryAfterMs / 1000))),
      upstreamStatus: last.status,
    });
  };

/**
 * What a call that threw came to, for the attempt record: cut off by the request's deadline, a timeout, a body over
 * the cap, or a network error.
 */
export function thrownOutcome(
  error: unknown,
  deadline: Deadline,
): "deadline" | "timeout" | "oversized_body" | "network" {
  if (deadline.passed || error instanceof DeadlinePassed) return "deadline";
  if (isTimeout(error)) return "timeout";
  return error instanceof BodyTooLarge ? "oversized_body" : "network";
}

/** A timeout (the call's own or AbortSignal.timeout) or an abort, as opposed to another network error. */
export function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}
