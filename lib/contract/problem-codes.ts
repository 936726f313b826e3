// The broker's stable problem codes and the HTTP status and title of each: what it answers with, what its callers read.

export type ProblemCode =
  | "invalid_request"
  | "access_denied"
  | "payload_too_large"
  | "unsupported_media_type"
  | "rate_limited"
  | "upstream_rejected"
  | "upstream_unavailable"
  | "signing_unavailable"
  | "internal_error";

/** HTTP status and human title per code: the single table the handlers answer from. */
export const PROBLEM_TABLE: Readonly<Record<ProblemCode, { status: number; title: string }>> = {
  invalid_request: { status: 400, title: "Invalid request" },
  access_denied: { status: 403, title: "Access denied" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  rate_limited: { status: 429, title: "Too many grants" },
  upstream_rejected: { status: 502, title: "Upstream service rejected the request" },
  upstream_unavailable: { status: 503, title: "Upstream service unavailable" },
  signing_unavailable: { status: 503, title: "Signing key unavailable" },
  internal_error: { status: 500, title: "Internal error" },
};

/** True for a code in the table: a caller reading a problem body knows every code the broker can send. */
export function isProblemCode(code: string): code is ProblemCode {
  return Object.hasOwn(PROBLEM_TABLE, code);
}
