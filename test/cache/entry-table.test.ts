import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EntryTable, type KeyHash, seededHash } from "../../lib/cache/entry-table.ts";

interface Item {
  key: string;
  slot: number;
}

/** Applies adds and removes to a table and to a Map, and checks that every key is found exactly when the Map has it. */
function agreesWithMap(hash: KeyHash, ops: { key: string; add: boolean }[], keys: readonly string[]): void {
  const table = new EntryTable<Item>(hash);
  const model = new Map<string, Item>();
  for (const op of ops) {
    const present = model.get(op.key);
    if (op.add && present === undefined) {
      const item = { key: op.key, slot: -1 };
      table.add(item, table.hash(op.key));
      model.set(op.key, item);
    } else if (!op.add && present !== undefined) {
      table.remove(present);
      model.delete(op.key);
      expect(present.slot).toBe(-1);
    }
    expect(table.size).toBe(model.size);
    for (const key of keys) expect(table.find(key, table.hash(key))).toBe(model.get(key));
  }
}

const KEYS = Array.from({ length: 40 }, (_, i) => `key-${i}`);
const op = fc.record({ key: fc.constantFrom(...KEYS), add: fc.boolean() });

describe("EntryTable", () => {
  it("finds what was added and not removed, through growth and removals (property)", () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(op, { maxLength: 200 }), (seed, ops) =>
        agreesWithMap(seededHash(seed), ops, KEYS),
      ),
    );
  });

  it("keeps every key findable when all keys share one hash: one probe run, removals shift it back (property)", () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 120 }), (ops) => agreesWithMap(() => 7, ops, KEYS)));
  });

  it("keeps every key findable when runs wrap around the end of the table (property)", () => {
    // Hashes whose low bits point at the last slots of a 16- or 32-slot table, so runs cross from the end to slot 0.
    const wrapping: KeyHash = (key) => -1 - (Number(key.slice(4)) % 3);
    fc.assert(fc.property(fc.array(op, { maxLength: 120 }), (ops) => agreesWithMap(wrapping, ops, KEYS)));
  });

  it("leaves an entry past the end of the table where it is when its home slot lies after the hole", () => {
    // 16 slots: a's home is slot 14, b's and c's slot 15, so c wraps to slot 0. Removing a must not move c to 14,
    // where a probe from 15 would never reach it; it may move b neither.
    const homes: Record<string, number> = { a: -2, b: -1, c: -1 };
    const table = new EntryTable<Item>((key) => homes[key] ?? 1);
    const [a, b, c] = ["a", "b", "c"].map((key) => ({ key, slot: -1 }));
    for (const item of [a, b, c] as Item[]) table.add(item, table.hash(item.key));
    expect([a?.slot, b?.slot, c?.slot]).toEqual([14, 15, 0]);
    table.remove(a as Item);
    expect([b?.slot, c?.slot]).toEqual([15, 0]);
    expect(table.find("b", -1)).toBe(b);
    expect(table.find("c", -1)).toBe(c);
  });

  it("tells keys with equal hashes apart by the key itself", () => {
    const table = new EntryTable<Item>(() => 1);
    const a = { key: "a", slot: -1 };
    table.add(a, 1);
    expect(table.find("a", 1)).toBe(a);
    expect(table.find("b", 1)).toBeUndefined();
  });

  it("hashes a key alike under one seed, never to 0, and differently under another seed", () => {
    const [one, other] = [seededHash(1), seededHash(2)];
    expect(one("scope:a")).toBe(one("scope:a"));
    expect(one("scope:a")).not.toBe(other("scope:a"));
    for (const key of KEYS) expect(one(key)).not.toBe(0);
  });
});
