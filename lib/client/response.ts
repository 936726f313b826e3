// Reads the broker's answer: a token on 200, otherwise a TokenBrokerError carrying the problem+json code.
import * as v from "valibot";
import {
  isProblemCode,
  parseJson,
  parseTokenAnswer,
  type TokenAnswerBody as TokenResponse,
} from "../contract/index.ts";
import { TokenBrokerError } from "./errors.ts";

export type { TokenResponse };

const problemSchema = v.object({
  code: v.string(),
  detail: v.optional(v.string()),
  title: v.optional(v.string()),
  upstream: v.optional(v.string()),
  upstream_error: v.optional(v.string()),
  upstream_error_description: v.optional(v.string()),
  request_id: v.optional(v.string()),
});

/** API Gateway's own refusals (signature, throttling, unknown route) are `{"message": "..."}`. */
const gatewaySchema = v.object({ message: v.string() });

/** API Gateway's words for credentials it does not accept: an unknown key, a wrong or expired session token. */
const CREDENTIALS_REFUSED = /^The security token included in the request is (invalid|expired)/;

function invalid(status: number, detail: string): TokenBrokerError {
  return new TokenBrokerError({ code: "invalid_response", status, detail });
}

export function readToken(status: number, text: string): TokenResponse | TokenBrokerError {
  // Never echo the body: on a 200 it may hold a token.
  return parseTokenAnswer(text) ?? invalid(status, "The broker's 200 response is not a token response");
}

/** The error for a non-2xx response; `retryAfterSeconds` comes from the Retry-After header. */
export function readError(status: number, text: string, retryAfterSeconds?: number): TokenBrokerError {
  const body = parseJson(text);
  const retry = { retry_after: retryAfterSeconds };
  const problem = v.safeParse(problemSchema, body);
  if (problem.success) {
    const { code, detail, title, ...extra } = problem.output;
    if (!isProblemCode(code)) return invalid(status, `Unknown problem code from the broker: ${code}`);
    return new TokenBrokerError({ ...extra, code, status, detail: detail ?? title ?? code, ...retry });
  }
  const gateway = v.safeParse(gatewaySchema, body);
  if (gateway.success) {
    const message = gateway.output.message;
    const code = CREDENTIALS_REFUSED.test(message) ? "credentials_error" : "gateway_rejected";
    return new TokenBrokerError({ code, status, detail: message, ...retry });
  }
  return invalid(status, `HTTP ${status} without a problem+json body`);
}
