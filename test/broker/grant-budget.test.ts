import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PrincipalBudgets } from "../../lib/broker/grant-budget.ts";
import { RateLimited } from "../../lib/problem/index.ts";

/** A budget whose `spend(principal)` answers undefined when it may sign, else its RateLimited's Retry-After. */
const budget = (perMinute: number, maxPrincipals?: number) => {
  let now = 0;
  const budgets = new PrincipalBudgets({
    perMinute,
    monotonic: () => now,
    ...(maxPrincipals === undefined ? {} : { maxPrincipals }),
  });
  const spend = (principal: string): number | undefined => {
    try {
      budgets.spend(principal, "default");
      return undefined;
    } catch (error) {
      if (!(error instanceof RateLimited)) throw error;
      return error.retryAfterSeconds;
    }
  };
  return { grants: { spend }, budgets, advance: (ms: number) => (now += ms) };
};

describe("PrincipalBudgets", () => {
  it("lets a principal spend its whole budget at once, then says when the next grant is due", () => {
    const { grants } = budget(20);
    for (let i = 0; i < 20; i++) expect(grants.spend("p")).toBeUndefined();
    expect(grants.spend("p")).toBe(3);
    expect(grants.spend("q")).toBeUndefined();
  });

  it("counts the part of a grant already refilled when it says when the next one is due", () => {
    const { grants, advance } = budget(20);
    for (let i = 0; i < 20; i++) grants.spend("p");
    advance(1000); // a third of a grant back: two thirds (2 s at 20 a minute) to go
    expect(grants.spend("p")).toBe(2);
    advance(2000);
    expect(grants.spend("p")).toBeUndefined();
  });

  it("never signs more than the budget plus what a minute refills, whatever the timing", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.array(fc.nat(5_000), { maxLength: 300 }), (n, gaps) => {
        const { grants, advance } = budget(n);
        let spent = 0;
        let elapsed = 0;
        for (const gap of gaps) {
          advance(gap);
          elapsed += gap;
          if (grants.spend("p") === undefined) spent++;
        }
        expect(spent).toBeLessThanOrEqual(n + Math.floor((elapsed * n) / 60_000));
      }),
    );
  });

  it("0 is no limit", () => {
    const { grants } = budget(0);
    for (let i = 0; i < 1000; i++) expect(grants.spend("p")).toBeUndefined();
  });

  it("keeps a bounded number of principals, dropping full buckets first: one that is still short stays short", () => {
    const { grants, advance } = budget(1, 3);
    grants.spend("short"); // the oldest bucket
    grants.spend("full");
    advance(60_000); // both full again
    grants.spend("short"); // short again, still the oldest
    grants.spend("b");
    grants.spend("c"); // over the bound: "full" (the same as no bucket) goes, not the oldest
    expect(grants.spend("short")).toBe(60);
  });

  it("past the bound, a bucket that refilled a little since it was emptied is not taken for a full one", () => {
    const { grants, advance } = budget(2, 3);
    grants.spend("short"); // the oldest bucket
    grants.spend("full");
    advance(60_000); // both full again
    grants.spend("short");
    grants.spend("short"); // empty
    advance(1); // a thirty-thousandth of a grant back
    grants.spend("c");
    grants.spend("d"); // over the bound: "full" goes; "short" is short still and stays
    expect(grants.spend("short")).toBe(30);
  });

  it("past the bound with no full bucket, forgets the oldest principal: it starts with a whole budget again", () => {
    const { grants } = budget(1, 2);
    grants.spend("oldest");
    grants.spend("b");
    grants.spend("c"); // a third bucket: "oldest" goes
    expect(grants.spend("b")).toBe(60);
    expect(grants.spend("c")).toBe(60);
    expect(grants.spend("oldest")).toBeUndefined(); // a fresh bucket: "b" goes to make room
    expect(grants.spend("c")).toBe(60);
    expect(grants.spend("b")).toBeUndefined();
  });

  it("counts each client on its own, and tells a refusal of another principal's budget from one's own", () => {
    const { budgets } = budget(1);
    budgets.spend("arn:aws:iam::111122223333:role/p", "a");
    budgets.spend("arn:aws:iam::111122223333:role/p", "b");
    let refusal: unknown;
    try {
      budgets.spend("arn:aws:iam::111122223333:role/p", "a");
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(RateLimited);
    expect((refusal as RateLimited).detail).toContain("for client a");
    expect(budgets.isOthers(refusal, "arn:aws:iam::111122223333:role/p")).toBe(false);
    expect(budgets.isOthers(refusal, "arn:aws:iam::111122223333:role/q")).toBe(true);
  });
});
