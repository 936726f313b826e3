import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RegisteredJwk } from "../../lib/keys/admin-api.ts";
import { KeySetRefusal } from "../../lib/keys/errors.ts";
import { MAX_REGISTERED_KEYS, renewed, withAdded, without } from "../../lib/keys/key-set.ts";
import { keyStatus } from "../../lib/keys/status.ts";

const key = (kid: string, exp?: number): RegisteredJwk => ({
  kty: "RSA",
  alg: "RS256",
  use: "sig",
  kid,
  n: `n-${kid}`,
  e: "AQAB",
  ...(exp === undefined ? {} : { exp }),
});

/** 1-5 keys with distinct kids and expiries. */
const keySets = fc
  .uniqueArray(fc.stringMatching(/^[a-z0-9]{1,8}$/), { minLength: 1, maxLength: MAX_REGISTERED_KEYS })
  .chain((kids) =>
    fc.tuple(
      fc.constant(kids),
      fc.array(fc.integer({ min: 1, max: 2e9 }), { minLength: kids.length, maxLength: kids.length }),
    ),
  )
  .map(([kids, exps]) => kids.map((kid, i) => key(kid, exps[i])));

describe("key set operations", () => {
  it("renew drops no key and changes only the renewed key's exp", () => {
    fc.assert(
      fc.property(keySets, fc.nat(), (set, pick) => {
        const target = set[pick % set.length] as RegisteredJwk;
        const posted = renewed(set, target.kid);
        expect(posted.map((k) => k.kid)).toEqual(set.map((k) => k.kid));
        for (const [i, k] of posted.entries()) {
          if (k.kid === target.kid) {
            const { exp: _renewed, ...rest } = target;
            expect(k).toEqual(rest);
          } else expect(k).toEqual(set[i]);
        }
      }),
    );
  });

  it("add keeps every registered key, refuses a sixth, and is a no-op for a key already there", () => {
    fc.assert(
      fc.property(keySets, (set) => {
        if (set.length >= MAX_REGISTERED_KEYS) {
          expect(() => withAdded(set, key("new-key"))).toThrow(KeySetRefusal);
          return;
        }
        const added = withAdded(set, key("new-key", 123));
        expect(added).toEqual({ kind: "add", keys: [...set, key("new-key")] });
        expect(withAdded(set, set[0] as RegisteredJwk)).toEqual({ kind: "present" });
      }),
    );
  });

  it("add refuses a kid that names another key, and a key under a second kid", () => {
    const set = [key("a"), key("b")];
    expect(() => withAdded(set, { ...key("c"), kid: "a" })).toThrow(/kid a is already registered/);
    expect(() => withAdded(set, { ...key("a"), kid: "z" })).toThrow(/already registered as kid a/);
  });

  it("retire refuses the signing key and an unknown kid, and removes exactly one other key", () => {
    const set = [key("a"), key("b"), key("c")];
    expect(() => without(set, "a", "a")).toThrow(/the key the broker signs with/);
    expect(() => without(set, "x", "a")).toThrow(/not registered/);
    expect(without(set, "b", "a")).toEqual([key("a"), key("c")]);
  });
});

describe("keyStatus", () => {
  const now = Date.UTC(2026, 0, 1);
  const exp = (days: number) => Math.floor(now / 1000) + days * 86_400;
  const signing = { kid: "a", jwk: key("a") };

  it("is ok from KEY_EXPIRY_WARN_DAYS left, and not below", () => {
    const at = (days: number) =>
      keyStatus({ clientId: "c", signing, registered: [key("a", exp(days))], now, warnDays: 30 });
    expect(at(30)).toMatchObject({ ok: true, registered: true, signingDaysLeft: 30 });
    expect(at(29)).toMatchObject({ ok: false, registered: true, signingDaysLeft: 29 });
    expect(at(-1)).toMatchObject({ ok: false, registered: true, signingDaysLeft: 0 });
  });

  it("does not count a kid registered for another public key as the signing key", () => {
    const other = { ...key("b", exp(300)), kid: "a" };
    const status = keyStatus({ clientId: "c", signing, registered: [other], now, warnDays: 30 });
    expect(status).toMatchObject({ ok: false, registered: false, signingDaysLeft: 0 });
    expect(status.report.keys).toEqual([
      { kid: "a", expires_at: new Date(exp(300) * 1000).toISOString(), days_left: 300, signing: false },
    ]);
    expect(status.reason).toContain("another public key");
  });
});
