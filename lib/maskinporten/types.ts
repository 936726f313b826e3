// The shapes the upstream client promises to the broker: a token, the facts of each attempt, and its injectables.

import type { TokenResponse } from "../contract/index.ts";
import type { HttpTransport } from "../http/transport.ts";
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

/** Injectables; everything has a production default. */
export interface UpstreamDeps {
  /** The HTTP client: a node:https keep-alive transport by default; `fetch` fits. */
  fetch?: HttpTransport;
  /** Wall clock, epoch ms (grant iat/exp). */
  now?: () => number;
  /** Monotonic clock, ms. */
  monotonic?: () => number;
  randomUUID?: () => string;
  /** [0,1) for jitter. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called when Maskinporten's Date header differs from our clock by more than 5 s. */
  onClockSkew?: (skewMs: number) => void;
}

export interface TokenSource {
  /**
   * Signs a fresh grant per attempt and exchanges it; throws UpstreamRejected, UpstreamUnavailable or SigningUnavailable.
   * Appends one record per attempt to `attempts` as it goes, so the caller has them on failure as on success.
   * Signing and every call give up when `deadline` passes (SigningUnavailable or UpstreamUnavailable).
   */
  requestToken(request: TokenRequest, attempts?: AttemptRecord[], deadline?: Deadline): Promise<TokenResult>;
}
