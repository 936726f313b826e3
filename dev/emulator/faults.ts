// Faults the emulator can be told to commit on the next token requests, one per request, in order.

export type EmulatorFault =
  /** Answer this status (default body: an OAuth server_error JSON), optionally with Retry-After. */
  | { type: "status"; status: number; retryAfter?: string; body?: string }
  /** Wait this long, then handle the request normally. */
  | { type: "delay"; ms: number }
  /** Destroy the socket without answering. */
  | { type: "drop" }
  /** 200 with a truncated JSON body. */
  | { type: "malformed-json" }
  /** 200 with an HTML body. */
  | { type: "non-json" }
  /** Handle the grant normally, but leave expires_in out of a successful answer. */
  | { type: "missing-expires-in" };

export type FaultType = EmulatorFault["type"];

export const MALFORMED_JSON_BODY = '{"access_token":"eyJhbGciOi","token_type":"Bear';
export const NON_JSON_BODY = "<html><body><h1>Service temporarily unavailable</h1></body></html>";

export function defaultFaultBody(status: number): string {
  return JSON.stringify({
    error: status >= 500 ? "server_error" : status === 429 ? "slow_down" : "invalid_request",
    error_description: `Emulated fault: HTTP ${status}`,
  });
}
