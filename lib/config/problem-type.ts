// PROBLEM_TYPE_BASE: what a problem+json `type` starts with (base + code); by default each code's docs/api.md heading.
import * as v from "valibot";
import { expecting } from "./problems.ts";
import type { Env } from "./variables.ts";

/** The repository's docs/api.md on GitHub, where each problem code is a heading of its own. */
export const DEFAULT_PROBLEM_TYPE_BASE =
  "https://github.com/maskinporten-broker/maskinporten-broker/blob/main/docs/api.md#";

/**
 * An absolute https URL that a code can be appended to: it ends in "/" (a path segment per code) or "#" (a
 * fragment per code), with no query, no user:password and no other "#".
 */
export function isProblemTypeBase(value: string): boolean {
  const hash = value.indexOf("#");
  const appendable = value.endsWith("/") ? hash === -1 : hash === value.length - 1;
  if (!appendable || /\s/.test(value)) return false;
  try {
    const url = new URL(value);
    return (
      url.protocol === "https:" &&
      url.hostname !== "" &&
      url.search === "" &&
      url.username === "" &&
      url.password === ""
    );
  } catch {
    return false;
  }
}

const expected = expecting("PROBLEM_TYPE_BASE", 'an absolute https URL ending in "/" or "#"');

/** PROBLEM_TYPE_BASE trimmed, or the default when unset; loadConfig reads it too, so a bad value is named with the rest. */
export const PROBLEM_TYPE_BASE = v.pipe(
  v.optional(v.string(), ""),
  v.rawTransform(({ dataset: { value }, addIssue, NEVER }) => {
    const base = value.trim();
    if (base === "") return DEFAULT_PROBLEM_TYPE_BASE;
    if (isProblemTypeBase(base)) return base;
    addIssue({ message: expected({ input: base }) });
    return NEVER;
  }),
);

/**
 * The base every handler renders problems with, read from the environment alone when the handler is made, so
 * an answer given before the rest of the configuration has loaded (a key unreachable at cold start) has it
 * too. The default when unset, and when invalid: `loadConfig` then refuses the whole configuration, naming it.
 */
export function problemTypeBaseOf(env: Env = process.env): string {
  const read = v.safeParse(PROBLEM_TYPE_BASE, env.PROBLEM_TYPE_BASE);
  return read.success ? read.output : DEFAULT_PROBLEM_TYPE_BASE;
}
