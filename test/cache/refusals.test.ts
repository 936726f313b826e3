import { describe, expect, it } from "vitest";
import { RefusalMemory } from "../../lib/cache/index.ts";

const memory = (seconds: number, maxEntries = 10) => {
  let now = 0;
  const refusals = new RefusalMemory<string>({ seconds, maxEntries, monotonic: () => now });
  return { refusals, advance: (ms: number) => (now += ms) };
};

describe("RefusalMemory", () => {
  it("recalls a refusal for its own key until its window has passed", () => {
    const { refusals, advance } = memory(30);
    refusals.remember("a", "no");
    expect(refusals.recall("a")).toBe("no");
    expect(refusals.recall("b")).toBeUndefined();
    advance(29_999);
    expect(refusals.recall("a")).toBe("no");
    advance(1);
    expect(refusals.recall("a")).toBeUndefined();
    expect(refusals.size).toBe(0);
  });

  it("remembers nothing when the window is 0", () => {
    const { refusals } = memory(0);
    refusals.remember("a", "no");
    expect(refusals.size).toBe(0);
    expect(refusals.recall("a")).toBeUndefined();
  });

  it("keeps at most maxEntries, dropping the oldest refusal first", () => {
    const { refusals } = memory(30, 2);
    refusals.remember("a", "1");
    refusals.remember("b", "2");
    refusals.remember("a", "3");
    refusals.remember("c", "4");
    expect([refusals.recall("a"), refusals.recall("b"), refusals.recall("c")]).toEqual(["3", undefined, "4"]);
  });
});
