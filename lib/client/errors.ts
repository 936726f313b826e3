// The one error a caller of the broker sees: the problem+json `code` (or what went wrong before the broker) as a value.
import type { ProblemCode } from "../contract/index.ts";

/**
 * The broker's problem codes, plus what can fail around it: `credentials_error` (no AWS credentials, expired
 * ones, or ones API Gateway does not know), `gateway_rejected` (API Gateway refused the call, e.g. a bad signature
 * or throttling), `network_error`, `invalid_response` (not an answer the broker gives).
 */
export type TokenBrokerErrorCode =
  | ProblemCode
  | "credentials_error"
  | "gateway_rejected"
  | "network_error"
  | "invalid_response";

export interface TokenBrokerErrorFields {
  code: TokenBrokerErrorCode;
  /** HTTP status; 0 when no response arrived. */
  status: number;
  detail: string;
  /** Which service failed ("maskinporten" or "altinn"), on an upstream problem. */
  upstream?: string | undefined;
  upstream_error?: string | undefined;
  upstream_error_description?: string | undefined;
  request_id?: string | undefined;
  /** Seconds the broker asked callers to wait (Retry-After). */
  retry_after?: number | undefined;
}

export class TokenBrokerError extends Error {
  override readonly name = "TokenBrokerError";
  readonly code: TokenBrokerErrorCode;
  readonly status: number;
  readonly detail: string;
  readonly upstream?: string;
  readonly upstream_error?: string;
  readonly upstream_error_description?: string;
  readonly request_id?: string;
  readonly retry_after?: number;

  constructor(fields: TokenBrokerErrorFields, options?: { cause?: unknown }) {
    super(`${fields.code} (${fields.status}): ${fields.detail}`, options);
    this.code = fields.code;
    this.status = fields.status;
    this.detail = fields.detail;
    if (fields.upstream !== undefined) this.upstream = fields.upstream;
    if (fields.upstream_error !== undefined) this.upstream_error = fields.upstream_error;
    if (fields.upstream_error_description !== undefined) {
      this.upstream_error_description = fields.upstream_error_description;
    }
    if (fields.request_id !== undefined) this.request_id = fields.request_id;
    if (fields.retry_after !== undefined) this.retry_after = fields.retry_after;
  }
}
