// Grant -> token: signs a fresh grant per attempt, posts it to Maskinporten, retries what is transient, maps the rest.
import { randomUUID } from "node:crypto";
import { parseTokenResponse, type TokenResponse } from "../contract/index.ts";
import { buildGrantClaims, signGrant } from "../grant/index.ts";
import { Problem, SigningUnavailable } from "../problem/index.ts";
import type { TokenRequest } from "../request/types.ts";
import type { Signer, SigningKey } from "../signer/signer.ts";
import { type Deadline, DeadlinePassed, noDeadline } from "../upstream/deadline.ts";
import { trustedLifetime } from "../upstream/lifetime.ts";
import {
  type AttemptOutcome,
  failedAnswer,
  thrownOutcome,
  type UpstreamDeps,
  type UpstreamRuntime,
  upstreamRuntime,
} from "../upstream/retry.ts";
import type { HttpResponse } from "../upstream/transport.ts";
import type { AttemptRecord, TokenResult, TokenSource, TokenTrace } from "./types.ts";

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

interface Fetched {
  response: HttpResponse;
  text: string;
  receivedAt: number;
}

export class MaskinportenClient implements TokenSource {
  private readonly runtime: UpstreamRuntime;
  private readonly randomUUID: () => string;

  constructor(
    private readonly options: MaskinportenClientOptions,
    private readonly signer: Signer,
    private readonly deps: UpstreamDeps = {},
  ) {
    this.runtime = upstreamRuntime(options, deps, "maskinporten");
    this.randomUUID = deps.randomUUID ?? randomUUID;
  }

  async requestToken(request: TokenRequest, trace: TokenTrace = { attempts: [] }): Promise<TokenResult> {
    const deadline = trace.deadline ?? noDeadline();
    return this.runtime.retry((n) => this.attempt(request, n, trace.attempts, deadline), deadline);
  }

  /** One grant, one POST. Resolves ok or transient; throws a Problem for what must not be retried. */
  private async attempt(
    request: TokenRequest,
    attempt: number,
    log: AttemptRecord[],
    deadline: Deadline,
  ): Promise<AttemptOutcome<TokenResult>> {
    const grantJti = this.randomUUID();
    const record = (fields: Omit<AttemptRecord, "attempt" | "grantJti">): void => {
      log.push({ attempt, grantJti, ...fields });
    };
    const signStarted = this.runtime.monotonic();
    let key: SigningKey | undefined;
    let grant: string;
    try {
      key = await deadline.within(this.signer.current());
      const claims = buildGrantClaims(request, {
        issuer: this.options.issuer,
        clientId: this.options.clientId,
        now: this.runtime.now() / 1000,
        jti: grantJti,
      });
      grant = await deadline.within(signGrant(key, claims));
    } catch (error) {
      const signMs = this.runtime.monotonic() - signStarted;
      record({ keyRef: key?.keyRef ?? "unknown", signMs, upstreamMs: 0, outcome: "signing_error" });
      if (error instanceof Problem) throw error;
      if (error instanceof DeadlinePassed) {
        throw new SigningUnavailable("The grant could not be signed before the request's deadline", {
          cause: error,
          causeName: error.name,
        });
      }
      throw new SigningUnavailable("The grant could not be signed", {
        cause: error,
        causeName: error instanceof Error ? error.name : typeof error,
      });
    }
    const signMs = this.runtime.monotonic() - signStarted;
    const upstreamStarted = this.runtime.monotonic();
    let fetched: Fetched;
    try {
      fetched = await this.post(grant, deadline);
    } catch (error) {
      const outcome = thrownOutcome(error, deadline);
      record({ keyRef: key.keyRef, signMs, upstreamMs: this.runtime.monotonic() - upstreamStarted, outcome });
      return { kind: "transient", outcome, cause: error };
    }
    const { response, text, receivedAt } = fetched;
    const status = response.status;
    const upstreamMs = this.runtime.monotonic() - upstreamStarted;
    this.checkClock(response.headers.get("date"));
    const done = (outcome: string) =>
      record({ keyRef: key.keyRef, signMs, upstreamStatus: status, upstreamMs, outcome });

    if (status >= 200 && status < 300) {
      const token = this.trustedToken(text);
      done(token === undefined ? "malformed_body" : "ok");
      return token === undefined
        ? { kind: "transient", outcome: "malformed_body", status }
        : { kind: "ok", value: { token, receivedAt } };
    }
    done(`http_${status}`);
    return failedAnswer(response, text, this.runtime.now(), "maskinporten");
  }

  /** The token body with its expires_in no longer than the token itself says it lives; undefined if not a token. */
  private trustedToken(text: string): TokenResponse | undefined {
    const token = parseTokenResponse(text);
    if (token === undefined) return undefined;
    const expiresIn = trustedLifetime(token.access_token, token.expires_in, this.runtime.now());
    return expiresIn === undefined ? undefined : { ...token, expires_in: expiresIn };
  }

  private async post(grant: string, deadline: Deadline): Promise<Fetched> {
    const response = await this.runtime.fetch(this.options.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: grant }).toString(),
      redirect: "manual",
      signal: deadline.callSignal(this.options.timeoutMs),
    });
    const receivedAt = this.runtime.monotonic();
    return { response, text: await response.text(), receivedAt };
  }

  private checkClock(date: string | null): void {
    if (date === null || this.deps.onClockSkew === undefined) return;
    const theirs = Date.parse(date);
    if (Number.isNaN(theirs)) return;
    const skewMs = theirs - this.runtime.now();
    if (Math.abs(skewMs) > CLOCK_SKEW_WARNING_MS) this.deps.onClockSkew(skewMs);
  }
}
