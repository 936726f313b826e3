import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  administrationGrants,
  decide,
  globMatch,
  normalisePrincipal,
  scopeMatches,
  validatePolicy,
} from "../../lib/policy/index.ts";
import { asParsed } from "../support/request.ts";

const ROLE = "arn:aws:iam::111122223333:role/svc";
const caller = normalisePrincipal("arn:aws:sts::111122223333:assumed-role/svc/sess");
const LITERAL_REASON =
  "administration scopes (idporten:dcr*, idporten:scopes*) need a rule that lists them literally";

/** Administration scopes in any case: the prefix, then a tail of scope characters. */
const administrationScope = fc
  .tuple(
    fc.constantFrom("idporten:dcr", "idporten:scopes", "IDPORTEN:DCR", "idporten:Scopes"),
    fc.string({ unit: fc.constantFrom("a", "d", "r", ".", ":", "/", "-", "write", "read", "modify") }),
  )
  .map(([prefix, tail]) => prefix + tail);

/** Patterns an author might write: the scope with any run replaced by `*`, broad globs, other scopes, itself. */
function patternsFor(scope: string): fc.Arbitrary<string[]> {
  const globbed = fc.tuple(fc.nat(), fc.nat()).map(([i, j]) => {
    const [from, to] = [i % (scope.length + 1), j % (scope.length + 1)].sort((a, b) => a - b);
    return `${scope.slice(0, from)}*${scope.slice(to)}`;
  });
  const broad = fc.constantFrom("*", "idporten:*", "idporten:dcr*", "idporten:scopes*", "*dcr*", "*:*");
  const other = fc.oneof(administrationScope, fc.constantFrom("skatteetaten:mva", "idporten:other"));
  return fc.array(fc.oneof(globbed, broad, other, fc.constant(scope)), { minLength: 1, maxLength: 6 });
}

describe("administration scopes are never globbed", () => {
  it("a rule grants an administration scope exactly when it lists that scope literally", () => {
    fc.assert(
      fc.property(
        administrationScope.chain((scope) => fc.tuple(fc.constant(scope), patternsFor(scope))),
        ([scope, patterns]) => {
          const policy = validatePolicy({ rules: [{ principal: ROLE, scopes: patterns }] }, "test");
          const decision = decide(policy, caller, asParsed({ scopes: [scope] }));
          const literal = patterns.includes(scope) && !scope.includes("*");
          expect(decision.allowed).toBe(literal);
          if (!decision.allowed) expect(decision.reason).toContain(LITERAL_REASON);
        },
      ),
    );
  });

  it("other scopes match their globs as before; no pattern grants more than its glob", () => {
    const unit = fc.constantFrom("a", "i", "d", "p", "o", "r", "t", "e", "n", "c", "s", ":", ".", "*");
    fc.assert(
      fc.property(fc.string({ unit }), fc.string({ unit }), (pattern, scope) => {
        if (scopeMatches(pattern, scope)) expect(globMatch(pattern, scope)).toBe(true);
        if (
          !scope.toLowerCase().startsWith("idporten:dcr") &&
          !scope.toLowerCase().startsWith("idporten:scopes")
        ) {
          expect(scopeMatches(pattern, scope)).toBe(globMatch(pattern, scope));
        }
      }),
    );
  });

  it("names the rules that grant one, with the scopes they list literally", () => {
    const policy = validatePolicy(
      {
        rules: [
          { principal: ROLE, scopes: ["*", "skatteetaten:mva"] },
          { principal: ROLE, scopes: ["idporten:dcr.read", "idporten:dcr*", "idporten:scopes.write"] },
        ],
      },
      "test",
    );
    expect(administrationGrants(policy)).toEqual([
      { rule: 1, scopes: ["idporten:dcr.read", "idporten:scopes.write"] },
    ]);
  });
});
