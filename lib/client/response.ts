// Reads the broker's answer: a token on 200, otherwise a TokenBrokerError carrying the problem+json code.
import { z } from "zod";
import { PROBLEM_TABLE, type ProblemCode } from "../problem/index.ts";
import { TokenBrokerError } from "./errors.ts";

export interface TokenResponse {
  access_token: string;
  token_type: string;
  /** Seconds the token is still valid, counted from when this value was returned. */
  expires_in: number;
  scope: string;
  /** "altinn" when the token is an exchanged Altinn token. */
  exchange?: "altinn";
}

const tokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().min(1),
  expires_in: z.number().int().nonnegative(),
  scope: z.string(),
  exchange: z.literal("altinn").optional(),
});

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

function isProblemCode(code: string): code is ProblemCode {
  return Object.hasOwn(PROBLEM_TABLE, code);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function invalid(status: number, detail: string): TokenBrokerError {
  return new TokenBrokerError({ code: "invalid_response", status, detail });
}

export function readToken(status: number, text: string): TokenResponse | TokenBrokerError {
  const parsed = tokenSchema.safeParse(parseJson(text));
  // Never echo the body: on a 200 it may hold a token.
  if (!parsed.success) return invalid(status, "The broker's 200 response is not a token response");
  const { exchange, ...token } = parsed.data;
  return exchange === undefined ? token : { ...token, exchange };
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
    return new TokenBrokerError({ code: "gateway_rejected", status, detail: gateway.data.message, ...retry });
  }
  return invalid(status, `HTTP ${status} without a problem+json body`);
}
