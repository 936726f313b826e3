// Maskinporten token -> Altinn token: GET the exchange endpoint with the token as Bearer, retry what is transient, map the rest.

import { parseJson } from "../contract/index.ts";
import { type Deadline, noDeadline } from "../upstream/deadline.ts";
import { jwtTimes, MAX_TOKEN_LIFETIME_SECONDS } from "../upstream/lifetime.ts";
import {
  type AttemptOutcome,
  failedAnswer,
  thrownOutcome,
  type UpstreamDeps,
  type UpstreamRuntime,
  upstreamRuntime,
} from "../upstream/retry.ts";
import type { HttpResponse } from "../upstream/transport.ts";

export interface AltinnExchangeOptions {
  /** ALTINN_EXCHANGE_URL. */
  url: string;
  /** Per attempt (UPSTREAM_TIMEOUT_MS). */
  timeoutMs: number;
  maxRetries?: number;
  maxWaitMs?: number;
  budgetMs?: number;
}

/** What one exchange attempt did: for the audit record and metrics. Never the tokens. */
export interface ExchangeAttempt {
  attempt: number;
  /** Altinn's HTTP status, absent on network error or timeout. */
  upstreamStatus?: number;
  upstreamMs: number;
  /** e.g. "ok", "timeout", "network", "http_401", "http_503", "malformed_body". */
  outcome: string;
}

export interface AltinnToken {
  accessToken: string;
  /** Monotonic ms at which the Altinn token's own `exp` passes. */
  expiresAt: number;
}

/** Where an exchange writes its attempts as it goes, and the deadline it runs under (none: only the budget). */
export interface ExchangeTrace {
  readonly exchangeAttempts: ExchangeAttempt[];
  readonly deadline?: Deadline;
}

/** Turns Maskinporten tokens into Altinn tokens; one instance per configured exchange URL. */
export interface TokenExchange {
  /**
   * Appends one record per attempt to the trace; throws UpstreamRejected or UpstreamUnavailable naming Altinn.
   * `admit` runs before every call to Altinn, retries included; what it throws ends the exchange. Every call gives
   * up when the trace's deadline passes (UpstreamUnavailable).
   */
  exchange(maskinportenToken: string, trace?: ExchangeTrace, admit?: () => void): Promise<AltinnToken>;
}

/** A compact JWS: three base64url parts. */
const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export class AltinnExchange implements TokenExchange {
  private readonly runtime: UpstreamRuntime;

  constructor(
    private readonly options: AltinnExchangeOptions,
    deps: Omit<UpstreamDeps, "randomUUID" | "onClockSkew"> = {},
  ) {
    this.runtime = upstreamRuntime(options, deps, "altinn");
  }

  exchange(
    maskinportenToken: string,
    trace: ExchangeTrace = { exchangeAttempts: [] },
    admit: () => void = () => undefined,
  ): Promise<AltinnToken> {
    const deadline = trace.deadline ?? noDeadline();
    return this.runtime.retry((n) => {
      admit();
      return this.attempt(maskinportenToken, n, trace.exchangeAttempts, deadline);
    }, deadline);
  }

  /** One GET. Resolves ok or transient; throws UpstreamRejected for a 4xx other than 429. */
  private async attempt(
    maskinportenToken: string,
    attempt: number,
    log: ExchangeAttempt[],
    deadline: Deadline,
  ): Promise<AttemptOutcome<AltinnToken>> {
    const started = this.runtime.monotonic();
    let response: HttpResponse;
    let text: string;
    try {
      response = await this.runtime.fetch(this.options.url, {
        method: "GET",
        headers: { authorization: `Bearer ${maskinportenToken}`, accept: "text/plain, application/json" },
        redirect: "manual",
        signal: deadline.callSignal(this.options.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const outcome = thrownOutcome(error, deadline);
      log.push({ attempt, upstreamMs: this.runtime.monotonic() - started, outcome });
      return { kind: "transient", outcome, cause: error };
    }
    const receivedAt = this.runtime.monotonic();
    const status = response.status;
    const done = (outcome: string) =>
      log.push({ attempt, upstreamStatus: status, upstreamMs: receivedAt - started, outcome });

    if (status >= 200 && status < 300) {
      const token = this.altinnToken(text, receivedAt);
      done(token === undefined ? "malformed_body" : "ok");
      return token === undefined
        ? { kind: "transient", outcome: "malformed_body", status }
        : { kind: "ok", value: token };
    }
    done(`http_${status}`);
    return failedAnswer(response, text, this.runtime.now(), "altinn");
  }

  /**
   * The body as a token: a bare JWT, or a JSON string holding one. Its lifetime is its own `exp` (never beyond
   * 24 h), counted from our wall clock; a body without a readable, future `exp` is not a token.
   */
  private altinnToken(text: string, receivedAt: number): AltinnToken | undefined {
    const accessToken = unquoted(text.trim());
    if (accessToken === undefined || !COMPACT_JWT.test(accessToken)) return undefined;
    const { exp } = jwtTimes(accessToken);
    if (exp === undefined) return undefined;
    const leftMs = Math.min(exp * 1000 - this.runtime.now(), MAX_TOKEN_LIFETIME_SECONDS * 1000);
    return leftMs > 0 ? { accessToken, expiresAt: receivedAt + leftMs } : undefined;
  }
}

/** A JSON string's content, the text itself when it is not one; undefined for any other JSON. */
function unquoted(text: string): string | undefined {
  if (!text.startsWith('"')) return text;
  const value = parseJson(text);
  return typeof value === "string" ? value.trim() : undefined;
}
