// Grant -> token: signs a fresh grant per attempt, posts it to Maskinporten, retries what is transient, maps the rest.
import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { buildGrantClaims, signGrant, type TokenRequest } from "../grant/index.ts";
import { Problem, SigningUnavailable, UpstreamRejected, UpstreamUnavailable } from "../problem/index.ts";
import type { Signer, SigningKey } from "../signer/signer.ts";
import { parseOAuthError, parseTokenResponse } from "./response.ts";
import { backoffMs, parseRetryAfter } from "./retry.ts";
import type { AttemptRecord, TokenResponse, TokenResult, TokenSource, UpstreamDeps } from "./types.ts";

export interface MaskinportenClientOptions {
  /** The environment's issuer: the grant's `aud`. */
  issuer: string;
  tokenUrl: string;
  clientId: string;
  /** Per attempt (UPSTREAM_TIMEOUT_MS). */
  timeoutMs: number;
  /** Retries after the first attempt; default 2. */
  maxRetries?: number;
  /** Longest single wait between attempts; a Retry-After beyond it ends the retries. Default 3000 ms. */
  maxWaitMs?: number;
  /** Time for one requestToken, all attempts and waits; default 25 s, inside API Gateway's 29 s. */
  budgetMs?: number;
}

export const JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Warn when Maskinporten's clock and ours differ by more than this. */
export const CLOCK_SKEW_WARNING_MS = 5000;

type AttemptOutcome =
  | { kind: "ok"; token: TokenResponse; receivedAt: number }
  | { kind: "transient"; outcome: string; status?: number; retryAfterMs?: number; cause?: unknown };

interface Fetched {
  response: Response;
  text: string;
  receivedAt: number;
}

export class MaskinportenClient implements TokenSource {
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly monotonic: () => number;
  private readonly randomUUID: () => string;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxRetries: number;
  private readonly maxWaitMs: number;
  private readonly budgetMs: number;

  constructor(
    private readonly options: MaskinportenClientOptions,
    private readonly signer: Signer,
    private readonly deps: UpstreamDeps = {},
  ) {
    this.fetch = deps.fetch ?? globalThis.fetch;
    this.now = deps.now ?? Date.now;
    this.monotonic = deps.monotonic ?? (() => performance.now());
    this.randomUUID = deps.randomUUID ?? randomUUID;
    this.random = deps.random ?? Math.random;
    this.sleep = deps.sleep ?? ((ms) => delay(ms));
    this.maxRetries = options.maxRetries ?? 2;
    this.maxWaitMs = options.maxWaitMs ?? 3000;
    this.budgetMs = options.budgetMs ?? 25_000;
  }

  async requestToken(request: TokenRequest, attempts: AttemptRecord[] = []): Promise<TokenResult> {
    const started = this.monotonic();
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(request, attempt, attempts);
      if (result.kind === "ok") return { token: result.token, receivedAt: result.receivedAt };
      const wait = Math.max(backoffMs(attempt, this.random()), result.retryAfterMs ?? 0);
      const elapsed = this.monotonic() - started;
      const exhausted =
        attempt > this.maxRetries ||
        wait > this.maxWaitMs ||
        elapsed + wait + this.options.timeoutMs > this.budgetMs;
      if (exhausted) throw unavailable(result, attempt);
      await this.sleep(wait);
    }
  }

  /** One grant, one POST. Resolves ok or transient; throws a Problem for what must not be retried. */
  private async attempt(
    request: TokenRequest,
    attempt: number,
    log: AttemptRecord[],
  ): Promise<AttemptOutcome> {
    const grantJti = this.randomUUID();
    const record = (fields: Omit<AttemptRecord, "attempt" | "grantJti">): void => {
      log.push({ attempt, grantJti, ...fields });
    };
    const signStarted = this.monotonic();
    let key: SigningKey | undefined;
    let grant: string;
    try {
      key = await this.signer.current();
      const claims = buildGrantClaims(request, {
        issuer: this.options.issuer,
        clientId: this.options.clientId,
        now: this.now() / 1000,
        jti: grantJti,
      });
      grant = await signGrant(key, claims);
    } catch (error) {
      const signMs = this.monotonic() - signStarted;
      record({ keyRef: key?.keyRef ?? "unknown", signMs, upstreamMs: 0, outcome: "signing_error" });
      if (error instanceof Problem) throw error;
      throw new SigningUnavailable("The grant could not be signed", {
        cause: error,
        causeName: error instanceof Error ? error.name : typeof error,
      });
    }
    const signMs = this.monotonic() - signStarted;
    const upstreamStarted = this.monotonic();
    let fetched: Fetched;
    try {
      fetched = await this.post(grant);
    } catch (error) {
      const outcome = isTimeout(error) ? "timeout" : "network";
      record({ keyRef: key.keyRef, signMs, upstreamMs: this.monotonic() - upstreamStarted, outcome });
      return { kind: "transient", outcome, cause: error };
    }
    const { response, text, receivedAt } = fetched;
    const status = response.status;
    const upstreamMs = this.monotonic() - upstreamStarted;
    this.checkClock(response.headers.get("date"));
    const done = (outcome: string) =>
      record({ keyRef: key.keyRef, signMs, upstreamStatus: status, upstreamMs, outcome });

    if (status >= 200 && status < 300) {
      const token = parseTokenResponse(text);
      done(token === undefined ? "malformed_body" : "ok");
      return token === undefined
        ? { kind: "transient", outcome: "malformed_body", status }
        : { kind: "ok", token, receivedAt };
    }
    done(`http_${status}`);
    if (status >= 400 && status < 500 && status !== 429) {
      const { error, errorDescription } = parseOAuthError(text, status);
      throw new UpstreamRejected(status, error, errorDescription);
    }
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), this.now());
    return {
      kind: "transient",
      outcome: `http_${status}`,
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }

  private async post(grant: string): Promise<Fetched> {
    const response = await this.fetch(this.options.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: grant }).toString(),
      redirect: "manual",
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    const receivedAt = this.monotonic();
    return { response, text: await response.text(), receivedAt };
  }

  private checkClock(date: string | null): void {
    if (date === null || this.deps.onClockSkew === undefined) return;
    const theirs = Date.parse(date);
    if (Number.isNaN(theirs)) return;
    const skewMs = theirs - this.now();
    if (Math.abs(skewMs) > CLOCK_SKEW_WARNING_MS) this.deps.onClockSkew(skewMs);
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

function unavailable(
  last: Extract<AttemptOutcome, { kind: "transient" }>,
  attempts: number,
): UpstreamUnavailable {
  return new UpstreamUnavailable(
    `Maskinporten unavailable after ${attempts} attempt(s) (last: ${last.outcome})`,
    {
      ...(last.cause === undefined ? {} : { cause: last.cause }),
      ...(last.cause instanceof Error ? { causeName: last.cause.name } : {}),
      ...(last.retryAfterMs === undefined
        ? {}
        : { retryAfterSeconds: Math.max(1, Math.ceil(last.retryAfterMs / 1000)) }),
      ...(last.status === undefined ? {} : { upstreamStatus: last.status }),
    },
  );
}
