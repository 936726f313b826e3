// The shapes the Maskinporten client promises to the broker: a token, the facts of each attempt, the trace they go in.

import type { TokenResponse } from "../contract/index.ts";
import type { TokenRequest } from "../request/types.ts";
import type { Deadline } from "../upstream/deadline.ts";

/** What one attempt did: for the audit record and metrics. Never contains the grant or the token. */
export interface AttemptRecord {
  attempt: number;
  grantJti: string;
  keyRef: string;
  signMs: number;
  /** Upstream HTTP status, absent on network error or timeout. */
  upstreamStatus?: number;
  upstreamMs: number;
  /** e.g. "timeout", "network", "http_503", "malformed_body", "ok", "http_400". */
  outcome: string;
}

export interface TokenResult {
  token: TokenResponse;
  /** Monotonic ms (the client's `monotonic()`) when the successful response arrived: lifetimes count from here. */
  receivedAt: number;
}

/** Where a token request writes its attempts as it goes, and the deadline it runs under (none: only the budget). */
export interface TokenTrace {
  readonly attempts: AttemptRecord[];
  readonly deadline?: Deadline;
}

export interface TokenSource {
  /**
   * Signs a fresh grant per attempt and exchanges it; throws UpstreamRejected, UpstreamUnavailable or SigningUnavailable.
   * Appends one record per attempt to the trace as it goes, so the caller has them on failure as on success.
   * Signing and every call give up when the trace's deadline passes (SigningUnavailable or UpstreamUnavailable).
   */
  requestToken(request: TokenRequest, trace?: TokenTrace): Promise<TokenResult>;
}
