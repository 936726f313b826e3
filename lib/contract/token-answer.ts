// The token answer both sides read: its shape, and the one schema that validates it (Maskinporten's and the broker's).
import * as v from "valibot";
import { parseJson } from "./json.ts";

/** A token answer, validated: Maskinporten's success body, and the core of the broker's own answer. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  /** Seconds the token is still valid, counted from when the answer was written. */
  expires_in: number;
  scope: string;
}

/** The broker's answer to POST /token: the token, marked `exchange: "altinn"` when it is an exchanged Altinn token. */
export interface TokenAnswerBody extends TokenResponse {
  exchange?: "altinn";
}

const tokenFields = {
  access_token: v.pipe(v.string(), v.minLength(1)),
  token_type: v.pipe(v.string(), v.minLength(1)),
  // JSON.parse reads 1e999 as Infinity, which valibot's number() lets through.
  expires_in: v.pipe(
    v.number(),
    v.check((seconds) => Number.isFinite(seconds) && seconds > 0),
  ),
  scope: v.string(),
};
const TokenResponseSchema = v.object(tokenFields);

/** The validated token body (Maskinporten's answer), or undefined when the body is not JSON of that shape. */
export function parseTokenResponse(text: string): TokenResponse | undefined {
  const parsed = v.safeParse(TokenResponseSchema, parseJson(text));
  return parsed.success ? parsed.output : undefined;
}

const TokenAnswerSchema = v.object({ ...tokenFields, exchange: v.optional(v.literal("altinn")) });

/** The broker's validated answer (for its callers), or undefined when the body is not one. */
export function parseTokenAnswer(text: string): TokenAnswerBody | undefined {
  const parsed = v.safeParse(TokenAnswerSchema, parseJson(text));
  if (!parsed.success) return undefined;
  const { exchange, ...token } = parsed.output;
  return exchange === undefined ? token : { ...token, exchange };
}
