// Maskinporten's answers, validated: the token body on 200, the OAuth error on 4xx (sanitised, never the raw body).
import * as z from "zod/mini";
import { parseJson } from "../json/index.ts";
import { UPSTREAM_NAMES, type Upstream, upstreamText } from "../problem/index.ts";
import type { TokenAnswerBody, TokenResponse } from "./types.ts";

const tokenFields = {
  access_token: z.string().check(z.minLength(1)),
  token_type: z.string().check(z.minLength(1)),
  // zod's number() already refuses Infinity and NaN.
  expires_in: z.number().check(z.positive()),
  scope: z.string(),
};
const TokenResponseSchema = z.object(tokenFields);

/** The validated token body, or undefined when the body is not JSON of that shape. */
export function parseTokenResponse(text: string): TokenResponse | undefined {
  const parsed = TokenResponseSchema.safeParse(parseJson(text));
  return parsed.success ? parsed.data : undefined;
}

// Built on first use (z.lazy): only the caller client reads the broker's answers (the Lambda never does).
const TokenAnswerSchema = z.lazy(() =>
  z.object({ ...tokenFields, exchange: z.optional(z.literal("altinn")) }),
);

/** The broker's validated answer (for its callers), or undefined when the body is not one. */
export function parseTokenAnswer(text: string): TokenAnswerBody | undefined {
  const parsed = TokenAnswerSchema.safeParse(parseJson(text));
  if (!parsed.success) return undefined;
  const { exchange, ...token } = parsed.data;
  return exchange === undefined ? token : { ...token, exchange };
}

// Built on first use (z.lazy): read only when Maskinporten refuses.
const OAuthErrorSchema = z.lazy(() =>
  z.object({ error: z.string(), error_description: z.optional(z.string()) }),
);
/** RFC 6749 section 5.2: error is NQSCHAR (printable ASCII without `"` and `\`). */
const ERROR_CODE = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,100}$/;
const MAX_DESCRIPTION = 500;

export interface OAuthErrorBody {
  error: string;
  errorDescription: string;
}

/** The upstream OAuth error, safe to pass on; a body that is not one becomes `unknown` with a neutral description. */
export function parseOAuthError(
  text: string,
  status: number,
  upstream: Upstream = "maskinporten",
): OAuthErrorBody {
  const parsed = OAuthErrorSchema.safeParse(parseJson(text));
  if (!parsed.success || !ERROR_CODE.test(parsed.data.error)) {
    return {
      error: "unknown",
      errorDescription: `${UPSTREAM_NAMES[upstream]} answered HTTP ${status} without an OAuth error body`,
    };
  }
  return {
    // An upstream that quotes the grant back could quote a pid, plain or encoded inside the grant: neither the
    // error code nor the description passes on a digit run, a token or a base64url run. Digdir's MP- code stays.
    error: upstreamText(parsed.data.error, 100),
    errorDescription: upstreamText(parsed.data.error_description ?? "", MAX_DESCRIPTION),
  };
}
