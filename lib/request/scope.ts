// RFC 6749 section 3.3 scope syntax: scope-tokens of %x21 / %x23-5B / %x5D-7E separated by single spaces.

import { sortedSet } from "../contract/index.ts";
import { holdsDigitRun, quoted } from "../problem/index.ts";
import { PID_ELSEWHERE } from "./pid.ts";
import type { Scope, ScopeSet } from "./types.ts";

/** One scope-token. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
export const MAX_SCOPES = 20;

/** The tokens of a scope string, or a message naming what is wrong with it. */
export function splitScope(scope: string): { scopes: string[] } | { error: string } {
  if (scope === "") return { error: "expected at least one scope" };
  const scopes = scope.split(" ");
  if (scopes.some((s) => s === "")) return { error: "scopes must be separated by single spaces" };
  const bad = scopes.find((s) => !SCOPE_TOKEN.test(s));
  if (bad !== undefined) return { error: `invalid scope-token ${quoted(bad, 100)}` };
  if (scopes.length > MAX_SCOPES) return { error: `at most ${MAX_SCOPES} scopes` };
  return { scopes };
}

/**
 * The scope set of a scope string, sorted and de-duplicated once: the one canonical form the cache key and the
 * grant take as it is. A scope-token holding a digit run (a pid, maybe) is refused: it would reach the log.
 */
export function parseScope(scope: string): { scopes: ScopeSet } | { error: string } {
  const split = splitScope(scope);
  if ("error" in split) return split;
  if (split.scopes.some(holdsDigitRun)) return { error: `a scope-token ${PID_ELSEWHERE}` };
  return { scopes: sortedSet(split.scopes) as readonly string[] as readonly Scope[] as ScopeSet };
}
