// An upstream's OAuth error on 4xx, validated and sanitised: what may pass on to the caller, never the raw body.
import * as v from "valibot";
import { parseJson } from "../contract/index.ts";
import { UPSTREAM_NAMES, type Upstream, upstreamText } from "../problem/index.ts";

const OAuthErrorSchema = v.object({ error: v.string(), error_description: v.optional(v.string()) });
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
  const parsed = v.safeParse(OAuthErrorSchema, parseJson(text));
  if (!parsed.success || !ERROR_CODE.test(parsed.output.error)) {
    return {
      error: "unknown",
      errorDescription: `${UPSTREAM_NAMES[upstream]} answered HTTP ${status} without an OAuth error body`,
    };
  }
  return {
    // An upstream that quotes the grant back could quote a pid, plain or encoded inside the grant: neither the
    // error code nor the description passes on a digit run, a token or a base64url run. Digdir's MP- code stays.
    error: upstreamText(parsed.output.error, 100),
    errorDescription: upstreamText(parsed.output.error_description ?? "", MAX_DESCRIPTION),
  };
}
