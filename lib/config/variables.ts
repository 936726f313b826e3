// The kinds of value a configuration variable holds (trimmed text, integer, URL, key reference, kid), each schema naming its variable.
import * as v from "valibot";
import { KID_PATTERN } from "../schema/names.ts";
import { isUpstreamUrl } from "../upstream/url.ts";
import { expecting, type Read, readOf } from "./problems.ts";
import { parseSigningKeyRef } from "./signing.ts";

/** The environment a section is read from: process.env, or a test's plain object. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A section's variables read by their own schemas: the values, or one line per bad variable. */
export function variables<const E extends v.ObjectEntries>(
  entries: E,
): (env: Env) => Read<v.InferOutput<v.ObjectSchema<E, undefined>>> {
  const schema = v.object(entries);
  return (env) => readOf(v.safeParse(schema, env));
}

/** The values a `variables` reader gives. */
export type ValuesOf<R> = R extends (env: Env) => Read<infer T> ? T : never;

/**
 * A variable's trimmed value; unset and empty are both undefined. Unset reads as "" (a default) so that the
 * rest of the pipe runs for it too: valibot skips an optional field's pipe when the field is absent.
 */
export const text = v.pipe(
  v.optional(v.string(), ""),
  v.transform((s) => {
    const trimmed = s?.trim();
    return trimmed === "" ? undefined : trimmed;
  }),
);

/** One of a few words; unset is `fallback`. */
export const word = <const W extends readonly [string, ...string[]]>(
  name: string,
  words: W,
  expected: string,
  fallback: W[number],
) => v.pipe(text, v.optional(v.picklist(words, expecting(name, expected)), fallback));

/** A whole number from `min` to `max`; unset is `fallback`. */
export const integer = (name: string, min: number, max: number, fallback: number) =>
  v.pipe(
    text,
    v.rawTransform(({ dataset: { value: s }, addIssue, NEVER }) => {
      if (s === undefined) return fallback;
      const n = Number(s);
      if (!Number.isInteger(n) || n < min || n > max) {
        addIssue({ message: expecting(name, `an integer from ${min} to ${max}`)({ input: s }) });
        return NEVER;
      }
      return n;
    }),
  );

/** An upstream's URL when set: https, or http to a loopback host (the local emulator). */
export const upstreamUrl = (name: string) =>
  v.pipe(
    text,
    v.check(
      (s) => s === undefined || isUpstreamUrl(s),
      expecting(name, "an https URL (plain http only to 127.0.0.1, localhost or [::1])"),
    ),
  );

/** A signing key reference (kms:, secretsmanager:, file:) when set. */
export const keyRef = (name: string) =>
  v.pipe(
    text,
    v.rawTransform(({ dataset: { value: s }, addIssue, NEVER }) => {
      if (s === undefined) return undefined;
      try {
        return parseSigningKeyRef(s);
      } catch (error) {
        addIssue({ message: `${name}: ${(error as Error).message}` });
        return NEVER;
      }
    }),
  );

/** A key id for a JWT header when set. */
export const kid = (name: string) =>
  v.pipe(
    text,
    v.check(
      (s) => s === undefined || KID_PATTERN.test(s),
      expecting(name, "letters, digits, '.', '_' or '-' (at most 200)"),
    ),
  );
