import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Expiring, LifetimeTooShort, type LoadTrigger, TokenCache } from "../../lib/cache/index.ts";

function setup(options: { maxEntries?: number; refreshAheadSeconds?: number } = {}) {
  let now = 1_000_000;
  const refreshErrors: unknown[] = [];
  const cache = new TokenCache<string>({
    maxEntries: options.maxEntries ?? 100,
    refreshAheadSeconds: options.refreshAheadSeconds ?? 15,
    monotonic: () => now,
    onRefreshError: (_key, error) => refreshErrors.push(error),
  });
  const triggers: LoadTrigger[] = [];
  let loads = 0;
  /** A loader whose values live `lifetimeSeconds` from when they are loaded. */
  const loader =
    (lifetimeSeconds = 120) =>
    async (trigger: LoadTrigger): Promise<Expiring<string>> => {
      triggers.push(trigger);
      loads++;
      return { value: `v${loads}`, expiresAt: now + lifetimeSeconds * 1000 };
    };
  return {
    cache,
    loader,
    triggers,
    refreshErrors,
    get loads() {
      return loads;
    },
    advance: (seconds: number) => {
      now += seconds * 1000;
    },
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("TokenCache", () => {
  it("makes one load for many concurrent misses: one miss, the rest coalesced, same value", async () => {
    const t = setup();
    const results = await Promise.all(Array.from({ length: 100 }, () => t.cache.get("k", 30, t.loader())));
    expect(t.loads).toBe(1);
    expect(new Set(results.map((r) => r.value))).toEqual(new Set(["v1"]));
    expect(results.filter((r) => r.outcome === "miss")).toHaveLength(1);
    expect(results.filter((r) => r.outcome === "coalesced")).toHaveLength(99);
  });

  it("serves hits with the remaining whole seconds, and never below min_ttl", async () => {
    const t = setup({ refreshAheadSeconds: 0 });
    await t.cache.get("k", 30, t.loader(120));
    t.advance(50.5);
    expect(await t.cache.get("k", 30, t.loader(120))).toEqual({
      value: "v1",
      remainingSeconds: 69,
      outcome: "hit",
    });
    t.advance(10);
    expect(await t.cache.get("k", 60, t.loader(120))).toMatchObject({ value: "v2", outcome: "miss" });
    expect(t.loads).toBe(2);
  });

  it("refreshes in the background within refresh-ahead of the edge while serving the old value", async () => {
    const t = setup({ refreshAheadSeconds: 15 });
    await t.cache.get("k", 30, t.loader(120));
    t.advance(80);
    const served = await t.cache.get("k", 30, t.loader(120));
    expect(served).toEqual({ value: "v1", remainingSeconds: 40, outcome: "hit" });
    const again = await t.cache.get("k", 30, t.loader(120));
    expect(again.outcome).toBe("hit");
    await flush();
    expect(t.triggers).toEqual(["miss", "refresh"]);
    expect(await t.cache.get("k", 30, t.loader(120))).toEqual({
      value: "v2",
      remainingSeconds: 120,
      outcome: "hit",
    });
  });

  it("keeps the old value when a background refresh fails, and reports the error", async () => {
    const t = setup();
    await t.cache.get("k", 30, t.loader(120));
    t.advance(80);
    const failing = async (): Promise<Expiring<string>> => {
      throw new Error("upstream down");
    };
    expect((await t.cache.get("k", 30, failing)).value).toBe("v1");
    await flush();
    expect(t.refreshErrors).toEqual([new Error("upstream down")]);
    expect((await t.cache.get("k", 30, t.loader(120))).outcome).toBe("hit");
  });

  it("delivers a failure to every waiter and does not cache it", async () => {
    const t = setup();
    let calls = 0;
    const failing = async (): Promise<Expiring<string>> => {
      calls++;
      throw new Error("boom");
    };
    const settled = await Promise.allSettled(Array.from({ length: 10 }, () => t.cache.get("k", 30, failing)));
    expect(calls).toBe(1);
    expect(settled.every((s) => s.status === "rejected")).toBe(true);
    expect((await t.cache.get("k", 30, t.loader())).outcome).toBe("miss");
  });

  it("survives a loader that throws synchronously", async () => {
    const t = setup();
    const throwing = (): Promise<Expiring<string>> => {
      throw new Error("sync");
    };
    await expect(t.cache.get("k", 30, throwing)).rejects.toThrow("sync");
    expect((await t.cache.get("k", 30, t.loader())).outcome).toBe("miss");
  });

  it("refuses a fresh value that lives shorter than min_ttl, but keeps it for callers who ask less", async () => {
    const t = setup({ refreshAheadSeconds: 0 });
    await expect(t.cache.get("k", 100, t.loader(60))).rejects.toBeInstanceOf(LifetimeTooShort);
    expect(await t.cache.get("k", 30, t.loader(60))).toMatchObject({ value: "v1", outcome: "hit" });
  });

  it("starts no refresh before the value is half its lifetime old, even inside the refresh window", async () => {
    const t = setup({ refreshAheadSeconds: 15 });
    await t.cache.get("k", 60, t.loader(120));
    // Inside the window (remaining < 60 + 15) from age 45 s on, but younger than half of 120 s: no refresh yet.
    t.advance(46);
    for (let age = 46; age < 60; age++) {
      expect((await t.cache.get("k", 60, t.loader(120))).outcome).toBe("hit");
      await flush();
      t.advance(1);
    }
    expect(t.triggers).toEqual(["miss"]);
    t.advance(-0.001);
    expect((await t.cache.get("k", 60, t.loader(120))).outcome).toBe("hit");
    await flush();
    expect(t.triggers).toEqual(["miss"]);
    t.advance(0.001);
    expect((await t.cache.get("k", 60, t.loader(120))).outcome).toBe("hit");
    await flush();
    expect(t.triggers).toEqual(["miss", "refresh"]);
  });

  it("starts a background refresh only once the value is refresh-ahead old, to the millisecond", async () => {
    const t = setup({ refreshAheadSeconds: 60 });
    await t.cache.get("k", 30, t.loader(120));
    // Inside the window (remaining < 30 + 60) from age 30 s on, but younger than 60 s: no refresh yet.
    t.advance(31);
    expect((await t.cache.get("k", 30, t.loader(120))).outcome).toBe("hit");
    t.advance(28.999);
    expect((await t.cache.get("k", 30, t.loader(120))).outcome).toBe("hit");
    await flush();
    expect(t.triggers).toEqual(["miss"]);
    t.advance(0.001);
    expect(await t.cache.get("k", 30, t.loader(120))).toMatchObject({ value: "v1", outcome: "hit" });
    await flush();
    expect(t.triggers).toEqual(["miss", "refresh"]);
  });

  it("with refresh-ahead longer than half the lifetime, waits until the value is refresh-ahead old", async () => {
    const t = setup({ refreshAheadSeconds: 80 });
    await t.cache.get("k", 30, t.loader(120));
    // Half its life old and inside the window (remaining 40 < 30 + 80), but 1 ms short of refresh-ahead.
    t.advance(79.999);
    expect((await t.cache.get("k", 30, t.loader(120))).outcome).toBe("hit");
    await flush();
    expect(t.triggers).toEqual(["miss"]);
    t.advance(0.001);
    expect(await t.cache.get("k", 30, t.loader(120))).toMatchObject({ value: "v1", outcome: "hit" });
    await flush();
    expect(t.triggers).toEqual(["miss", "refresh"]);
  });

  it("starts no refresh outside the window: remaining exactly min_ttl + refresh-ahead is not inside it", async () => {
    const t = setup({ refreshAheadSeconds: 15 });
    await t.cache.get("k", 30, t.loader(120));
    t.advance(75);
    expect(await t.cache.get("k", 30, t.loader(120))).toMatchObject({ remainingSeconds: 45, outcome: "hit" });
    await flush();
    expect(t.triggers).toEqual(["miss"]);
    t.advance(0.001);
    expect(await t.cache.get("k", 30, t.loader(120))).toMatchObject({ remainingSeconds: 44, outcome: "hit" });
    await flush();
    expect(t.triggers).toEqual(["miss", "refresh"]);
  });

  it("serves a value whose remaining life equals min_ttl exactly, and loads one second later", async () => {
    const t = setup({ refreshAheadSeconds: 0 });
    await t.cache.get("k", 30, t.loader(120));
    t.advance(90);
    expect(await t.cache.get("k", 30, t.loader(120))).toEqual({
      value: "v1",
      remainingSeconds: 30,
      outcome: "hit",
    });
    t.advance(1);
    expect(await t.cache.get("k", 30, t.loader(120))).toEqual({
      value: "v2",
      remainingSeconds: 120,
      outcome: "miss",
    });
  });

  it("hands out a fresh value whose lifetime is exactly twice min_ttl, and refuses one a second shorter", async () => {
    const t = setup({ refreshAheadSeconds: 0 });
    expect(await t.cache.get("k", 30, t.loader(60))).toEqual({
      value: "v1",
      remainingSeconds: 60,
      outcome: "miss",
    });
    await expect(t.cache.get("j", 30, t.loader(59))).rejects.toMatchObject({
      lifetimeSeconds: 59,
      minSeconds: 30,
    });
  });

  it("loads again for a min_ttl of half the lifetime once the cached value has aged below it", async () => {
    const t = setup({ refreshAheadSeconds: 0 });
    await t.cache.get("k", 30, t.loader(120));
    t.advance(61);
    expect(await t.cache.get("k", 60, t.loader(120))).toEqual({
      value: "v2",
      remainingSeconds: 120,
      outcome: "miss",
    });
  });

  it("drops a value at its expiry and loads afresh, even for a min_ttl over its lifetime", async () => {
    const t = setup({ refreshAheadSeconds: 0 });
    await t.cache.get("k", 10, t.loader(20));
    t.advance(20);
    await expect(t.cache.get("k", 30, t.loader(20))).rejects.toBeInstanceOf(LifetimeTooShort);
    expect(t.loads).toBe(2);
  });

  it("refuses a min_ttl over half the lifetime from the cache, even while the value could serve it: one load per lifetime", async () => {
    const t = setup({ refreshAheadSeconds: 0 });
    await expect(t.cache.get("k", 61, t.loader(120))).rejects.toBeInstanceOf(LifetimeTooShort);
    for (let i = 0; i < 10; i++) {
      await expect(t.cache.get("k", 61, t.loader(120))).rejects.toMatchObject({
        lifetimeSeconds: 120,
        minSeconds: 61,
      });
      t.advance(1);
    }
    expect(t.loads).toBe(1);
    expect(await t.cache.get("k", 60, t.loader(120))).toMatchObject({ value: "v1", outcome: "hit" });
    t.advance(111);
    await expect(t.cache.get("k", 61, t.loader(120))).rejects.toBeInstanceOf(LifetimeTooShort);
    expect(t.loads).toBe(2);
  });

  it("loads a key at most twice per lifetime, whatever the minimum and refresh-ahead, one request a second (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 2, max: 300 }),
        async (min, refreshAheadSeconds, lifetime) => {
          const t = setup({ refreshAheadSeconds });
          const loadedAt: number[] = [];
          const load = t.loader(lifetime);
          for (let second = 0; second < 3 * lifetime; second++) {
            await t.cache
              .get("k", min, (trigger) => {
                loadedAt.push(second);
                return load(trigger);
              })
              .catch((error: unknown) => expect(error).toBeInstanceOf(LifetimeTooShort));
            await flush();
            t.advance(1);
          }
          for (const [i, at] of loadedAt.entries()) {
            const within = loadedAt.filter((other) => other >= at && other < at + lifetime);
            expect(within.length, `loads at ${loadedAt.slice(i, i + 3).join(", ")} s`).toBeLessThanOrEqual(2);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("evicts the least recently used entry beyond maxEntries", async () => {
    const t = setup({ maxEntries: 2 });
    await t.cache.get("a", 30, t.loader());
    await t.cache.get("b", 30, t.loader());
    await t.cache.get("a", 30, t.loader());
    await t.cache.get("c", 30, t.loader());
    expect(t.cache.size).toBe(2);
    expect((await t.cache.get("a", 30, t.loader())).outcome).toBe("hit");
    expect((await t.cache.get("b", 30, t.loader())).outcome).toBe("miss");
  });

  it("evicts in least-recently-used order: a hit renews an entry, each insert beyond maxEntries drops the oldest", async () => {
    const t = setup({ maxEntries: 3 });
    // Each step with the outcome it must have and the recency order after it (oldest first).
    const script: [string, string][] = [
      ["a", "miss"], // a
      ["b", "miss"], // a b
      ["c", "miss"], // a b c
      ["a", "hit"], //  b c a
      ["d", "miss"], // c a d (b evicted)
      ["c", "hit"], //  a d c
      ["e", "miss"], // d c e (a evicted)
      ["f", "miss"], // c e f (d evicted)
      ["f", "hit"], //  c e f
      ["e", "hit"], //  c f e
      ["c", "hit"], //  f e c
      ["b", "miss"], // e c b (f evicted)
      ["f", "miss"], // c b f (e evicted)
    ];
    const outcomes: string[] = [];
    for (const [key] of script) outcomes.push((await t.cache.get(key, 30, t.loader())).outcome);
    expect(outcomes).toEqual(script.map(([, outcome]) => outcome));
    expect(t.cache.size).toBe(3);
  });

  it("reloading a key for a longer minimum in a full cache evicts no other key", async () => {
    const t = setup({ maxEntries: 2, refreshAheadSeconds: 0 });
    await t.cache.get("a", 30, t.loader(120));
    await t.cache.get("b", 30, t.loader(120));
    await t.cache.get("a", 30, t.loader(120)); // b is now the least recently used
    t.advance(61);
    expect(await t.cache.get("a", 60, t.loader(120))).toMatchObject({ value: "v3", outcome: "miss" });
    expect(await t.cache.get("b", 30, t.loader(120))).toMatchObject({ value: "v2", outcome: "hit" });
    expect(t.cache.size).toBe(2);
  });

  it("a value already expired when its load ends is refused and displaces nothing", async () => {
    const t = setup({ maxEntries: 1 });
    await t.cache.get("a", 30, t.loader(120));
    await expect(t.cache.get("b", 30, t.loader(0))).rejects.toBeInstanceOf(LifetimeTooShort);
    expect(t.cache.size).toBe(1);
    expect(await t.cache.get("a", 30, t.loader(120))).toMatchObject({ value: "v1", outcome: "hit" });
  });

  it("an expired value whose reload fails leaves nothing behind", async () => {
    const t = setup();
    await t.cache.get("k", 30, t.loader(120));
    t.advance(120);
    const failing = async (): Promise<Expiring<string>> => {
      throw new Error("upstream down");
    };
    await expect(t.cache.get("k", 30, failing)).rejects.toThrow("upstream down");
    expect(t.cache.size).toBe(0);
  });

  it("agrees with a reference LRU on every hit and miss (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.constantFrom("a", "b", "c", "d", "e", "f"), { maxLength: 60 }),
        async (maxEntries, keys) => {
          const t = setup({ maxEntries, refreshAheadSeconds: 0 });
          const model: string[] = []; // least recently used first
          for (const key of keys) {
            const at = model.indexOf(key);
            if (at >= 0) model.splice(at, 1);
            model.push(key);
            if (model.length > maxEntries) model.shift();
            expect((await t.cache.get(key, 30, t.loader())).outcome).toBe(at >= 0 ? "hit" : "miss");
            expect(t.cache.size).toBe(model.length);
          }
        },
      ),
    );
  });

  it("never holds more than maxEntries and never serves below the minimum (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            key: fc.constantFrom("a", "b", "c", "d"),
            min: fc.integer({ min: 1, max: 300 }),
            advance: fc.integer({ min: 0, max: 200 }),
            lifetime: fc.integer({ min: 1, max: 600 }),
          }),
          { maxLength: 40 },
        ),
        async (steps) => {
          const t = setup({ maxEntries: 2 });
          for (const step of steps) {
            t.advance(step.advance);
            try {
              const result = await t.cache.get(step.key, step.min, t.loader(step.lifetime));
              expect(result.remainingSeconds).toBeGreaterThanOrEqual(step.min);
            } catch (error) {
              expect(error).toBeInstanceOf(LifetimeTooShort);
            }
            expect(t.cache.size).toBeLessThanOrEqual(2);
          }
        },
      ),
    );
  });
});
