// What the broker repeats of text it did not write (a caller's, an upstream's): digit runs masked, secrets cut out.

/** What stands where a run of 11 or more digits was: a pid, or a longer number that may hold one. */
export const DIGITS_MASK = "[pid]";
/** What stands where a JWS/JWT or a base64url run was. */
export const ENCODED_MASK = "[removed]";

/** A run of 11 or more digits (`all`, to replace every one) and the test for one (`one`). */
interface DigitRuns {
  all: RegExp;
  one: RegExp;
}

/**
 * A pattern with Unicode classes (`\p{...}`), built from its text when it is used. Not a literal: V8 checks a
 * literal's syntax as it compiles the bundle, code that never runs included, and a `\p` class makes that check dear
 * (about 0.7 M instructions each, at every cold start).
 */
const unicodePattern = (source: string, flags: string): RegExp => new RegExp(source, flags);

/**
 * 11 or more numbers of any script (ASCII, fullwidth, Arabic-Indic, superscript, ...) in a row; invisible format
 * characters (zero-width space, joiners) between them do not break the run, as a reader does not see them. Built
 * for the first text with a character outside ASCII; scopes, ARNs and most other text are ASCII.
 */
let unicodeRuns: DigitRuns | undefined;
const unicodeDigitRuns = (): DigitRuns => ({
  all: unicodePattern(String.raw`\p{N}(?:\p{Cf}*\p{N}){10,}`, "gu"),
  one: unicodePattern(String.raw`\p{N}(?:\p{Cf}*\p{N}){10}`, "u"),
});
/** The same runs in ASCII text, whose only numbers are 0-9 and which has no format characters. */
const ASCII_RUNS: DigitRuns = { all: /[0-9]{11,}/g, one: /[0-9]{11}/ };
const NON_ASCII = /[\u0080-\uffff]/;

function digitRuns(text: string): DigitRuns {
  if (!NON_ASCII.test(text)) return ASCII_RUNS;
  unicodeRuns ??= unicodeDigitRuns();
  return unicodeRuns;
}

/** `text` with every run of 11 or more digits, of any script, replaced by DIGITS_MASK. */
export function maskDigitRuns(text: string): string {
  return text.replace(digitRuns(text).all, DIGITS_MASK);
}

/** `text` with its percent-encoded bytes (`%31`, `%EF%BC%91`) decoded as UTF-8, as a reader of a URI would. */
function percentDecoded(text: string): string {
  return text.replace(PERCENT_RUN, (run) => utf8.decode(Buffer.from(run.replaceAll("%", ""), "hex")));
}
const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;
const utf8 = new TextDecoder("utf-8");

const holdsRun = (text: string): boolean => digitRuns(text).one.test(text);

/** True when `text`, as written or percent-decoded, holds a run that maskDigitRuns would mask. */
export function holdsDigitRun(text: string): boolean {
  return holdsRun(text) || (text.includes("%") && holdsRun(percentDecoded(text)));
}

/**
 * A caller's value for a message: masked, cut to `max` characters, JSON-quoted (so its end is visible); a value
 * that still holds a digit run once percent-decoded is not shown at all.
 */
export function quoted(text: string, max: number): string {
  const masked = maskDigitRuns(text);
  return JSON.stringify(holdsDigitRun(masked) ? DIGITS_MASK : masked.slice(0, max));
}

/**
 * A principal ARN for a message or a log: its account stays (12 digits, not chosen by the caller), digit runs in
 * its resource part (a session or federated user name, which the caller chose) are masked.
 */
export function shownArn(arn: string): string {
  let end = -1;
  for (let field = 0; field < 5; field++) {
    end = arn.indexOf(":", end + 1);
    if (end < 0) return maskDigitRuns(arn);
  }
  return arn.slice(0, end + 1) + maskDigitRuns(arn.slice(end + 1));
}

/**
 * A JWS/JWT (a JSON header, `eyJ`, and the dot-joined segments after it) and any base64url run of 15 or more
 * characters that is not a plain word: 15 characters are enough to carry 11 bytes, a pid, once encoded. Runs of
 * lower-case letters, `_` and `-` only (`invalid_altinn_customer_configuration`) are words, and stay.
 */
const JWS = /eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){1,2}/g;
const BASE64URL_RUN = /[A-Za-z0-9_-]{15,}={0,2}/g;
const PLAIN_WORD = /^[a-z_-]+$|^[A-Z_-]+$/;
/** Digdir's code to quote to support (MP-124), kept when it starts a removed run. */
const MP_CODE = /^MP-\d{3}/;

function withoutEncoded(run: string): string {
  if (PLAIN_WORD.test(run)) return run;
  const code = MP_CODE.exec(run)?.[0];
  return code === undefined ? ENCODED_MASK : `${code}${ENCODED_MASK}`;
}

/**
 * Upstream text (an OAuth `error` or `error_description`) safe to relay to a caller and to log: percent-encoding
 * decoded, format characters dropped and control characters made spaces (neither may split a run), digit runs
 * masked, then tokens, grants and base64url runs removed (a service that quotes the grant back would otherwise
 * relay its claims, a pid among them); at most `max` characters. What is left of a run that a digit mask split is
 * either long enough to be removed or too short to hold a pid.
 */
export function upstreamText(text: string, max: number): string {
  const plain = percentDecoded(text)
    .replace(unicodePattern(String.raw`\p{Cf}+`, "gu"), "")
    .replace(unicodePattern(String.raw`\p{Cc}+`, "gu"), " ");
  const masked = maskDigitRuns(plain);
  return masked.replace(JWS, withoutEncoded).replace(BASE64URL_RUN, withoutEncoded).slice(0, max);
}
