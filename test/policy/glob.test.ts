import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { globMatch } from "../../lib/policy/index.ts";

const text = fc.string({ unit: fc.constantFrom("a", "b", "/", ":", ".", "-", "?", "(", "+") });

describe("globMatch", () => {
  it("without * is string equality", () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(globMatch(a, b)).toBe(a === b);
      }),
    );
  });

  it("* alone matches everything, also the empty string", () => {
    fc.assert(
      fc.property(fc.string(), (v) => {
        expect(globMatch("*", v)).toBe(true);
      }),
    );
  });

  it("matches a value after any of its substrings is replaced by *", () => {
    fc.assert(
      fc.property(text, fc.nat(), fc.nat(), (v, i, j) => {
        const [from, to] = [Math.min(i, j) % (v.length + 1), Math.max(i, j) % (v.length + 1)].sort(
          (x, y) => x - y,
        );
        expect(globMatch(`${v.slice(0, from)}*${v.slice(to ?? 0)}`, v)).toBe(true);
      }),
    );
  });

  it("agrees with an escaped regular expression, also for a value holding * (a requested scope may)", () => {
    const starred = fc.string({ unit: fc.constantFrom("a", "b", "*", ".", "(") });
    fc.assert(
      fc.property(starred, fc.oneof(text, starred), (pattern, v) => {
        const regex = new RegExp(`^${pattern.replace(/[.(]/g, "\\$&").replace(/\*/g, "[\\s\\S]*")}$`);
        expect(globMatch(pattern, v)).toBe(regex.test(v));
      }),
    );
  });

  it("matches the policy examples", () => {
    expect(
      globMatch("arn:aws:iam::111122223333:role/payroll-*", "arn:aws:iam::111122223333:role/payroll-svc"),
    ).toBe(true);
    expect(
      globMatch("arn:aws:iam::111122223333:role/payroll-*", "arn:aws:iam::111122223333:role/hr-svc"),
    ).toBe(false);
    expect(globMatch("skatteetaten:a-meldinger/*", "skatteetaten:a-meldinger/les")).toBe(true);
    expect(globMatch("skatteetaten:a-meldinger/*", "skatteetaten:a-meldinger")).toBe(false);
    expect(globMatch("nav:*x", "nav:*bx")).toBe(true);
  });
});
