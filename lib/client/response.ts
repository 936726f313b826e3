// Reads the broker's answer: a token on 200, otherwise a TokenBrokerError carrying the problem+json code.
import { z } from "zod";
import { parseJson } from "../json/index.ts";
import { parseTokenAnswer } from "../maskinporten/response.ts";
import type { TokenAnswerBody as TokenResponse } from "../maskinporten/types.ts";
import { PROBLEM_TABLE, type ProblemCode } from "../problem/index.ts";
import { TokenBrokerError } from "./errors.ts";

export type { TokenResponse };

const problemSchema = z.object({
  code: z.string(),
  detail: z.string().optional(),
  title: z.string().optional(),
  upstream: z.string().optional(),
  upstream_error: z.string().optional(),
  upstream_error_description: z.string().optional(),
  request_id: z.string().optional(),
});

/** API Gateway's own refusals (signature, throttling, unknown route) are `{"message": "..."}`. */
const gatewaySchema = z.object({ message: z.string() });

/** API Gateway's words for credentials it does not accept: an unknown key, a wrong or expired session token. */
const CREDENTIALS_REFUSED = /^The security token included in the request is (invalid|expired)/;

function isProblemCode(code: string): code is ProblemCode {
  return Object.hasOwn(PROBLEM_TABLE, code);
}

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
  const problem = problemSchema.safeParse(body);
  if (problem.success) {
    const { code, detail, title, ...extra } = problem.data;
    if (!isProblemCode(code)) return invalid(status, `Unknown problem code from the broker: ${code}`);
    return new TokenBrokerError({ ...extra, code, status, detail: detail ?? title ?? code, ...retry });
  }
  const gateway = gatewaySchema.safeParse(body);
  if (gateway.success) {
    const message = gateway.data.message;
    const code = CREDENTIALS_REFUSED.test(message) ? "credentials_error" : "gateway_rejected";
    return new TokenBrokerError({ code, status, detail: message, ...retry });
  }
  return invalid(status, `HTTP ${status} without a problem+json body`);
}
