// How configuration problems are worded (variable, expectation, the value) and gathered into one ConfigError.
import type * as v from "valibot";
import { ConfigError } from "./config-error.ts";

/** At most this much of a bad value is echoed: enough to recognise a typo, never a page of pasted text. */
const SHOWN_LENGTH = 120;

/**
 * A bad value as a configuration message echoes it: a URL without its user:password, cut short. No variable
 * holds a secret (keys are references, see `shownKeyRef`), so the rest is shown as it is.
 */
export function shownValue(value: unknown): string {
  const text = String(value).replace(/\/\/[^/@\s]*@/, "//…@");
  return `"${text.length > SHOWN_LENGTH ? `${text.slice(0, SHOWN_LENGTH)}…` : text}"`;
}

/**
 * An issue message naming the variable, what it expects and the value it got; an unset variable has no value
 * to show.
 */
export const expecting =
  (name: string, expected: string) =>
  (issue: { input?: unknown }): string =>
    `${name}: expected ${expected}${issue.input === undefined ? "" : `, got ${shownValue(issue.input)}`}`;

/** The one way an invalid configuration is told: a heading, then one line per problem, each naming its variable. */
export function invalidConfiguration(lines: readonly string[]): ConfigError {
  return new ConfigError(`Invalid configuration:\n  ${lines.join("\n  ")}`, { problems: lines });
}

/** Lines of a failed parse, each starting with the variable's name. */
export const issueLines = (issues: readonly v.BaseIssue<unknown>[]): string[] =>
  issues.map((issue) =>
    /^[A-Z][A-Z0-9_ /]*:/.test(issue.message)
      ? issue.message
      : `${String(issue.path?.[0]?.key ?? "")}: ${issue.message}`,
  );

/** A parse's outcome, or what is wrong with it: the shape every part of the configuration is read into. */
export type Read<T> = { value: T } | { errors: string[] };

/** The value of a parse, or its issues as lines. */
export function readOf<T>(parsed: v.SafeParseResult<v.GenericSchema<unknown, T>>): Read<T> {
  return parsed.success ? { value: parsed.output } : { errors: issueLines(parsed.issues) };
}

/** The section's value, or no line of its own while a section it needs is wrong (that one's lines say why). */
export const given = <D, T>(needed: Read<D>, read: (value: D) => Read<T>): Read<T> =>
  "errors" in needed ? { errors: [] } : read(needed.value);

type Values<T extends Record<string, Read<unknown>>> = {
  [K in keyof T]: T[K] extends Read<infer V> ? V : never;
};

/** The reads' values together, or every problem of every one of them. */
export function all<T extends Record<string, Read<unknown>>>(reads: T): Read<Values<T>> {
  const failed = Object.values(reads).filter((read) => "errors" in read);
  if (failed.length > 0) return { errors: failed.flatMap((read) => read.errors) };
  return {
    value: Object.fromEntries(
      Object.entries(reads).map(([key, read]) => [key, (read as { value: unknown }).value]),
    ) as Values<T>,
  };
}

/** Every problem of the reads together, thrown as one ConfigError; the values when there is none. */
export function checked<T extends Record<string, Read<unknown>>>(reads: T): Values<T> {
  const read = all(reads);
  if ("errors" in read) throw invalidConfiguration(read.errors);
  return read.value;
}
