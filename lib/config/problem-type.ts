// PROBLEM_TYPE_BASE: what a problem+json `type` starts with (base + code); by default each code's docs/api.md heading.
import * as v from "valibot";
import { expecting } from "./problems.ts";
import { section } from "./variables.ts";

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

/** PROBLEM_TYPE_BASE trimmed, or the default when unset. */
export const readProblemTypeBase = section(
  {
    PROBLEM_TYPE_BASE: v.pipe(
      v.optional(v.string(), ""),
      v.rawTransform(({ dataset: { value }, addIssue, NEVER }) => {
        const base = value.trim();
        if (base === "") return DEFAULT_PROBLEM_TYPE_BASE;
        if (isProblemTypeBase(base)) return base;
        addIssue({ message: expected({ input: base }) });
        return NEVER;
      }),
    ),
  },
  (e) => e.PROBLEM_TYPE_BASE,
);
