// An open-addressed table of keyed entries: a lookup compares 32-bit hashes in one typed array, an entry leaves from its own slot.
import { randomBytes } from "node:crypto";

/** What the table stores: an object that carries its key and is told the slot it sits in. */
export interface Slotted {
  readonly key: string;
  slot: number;
}

/** A 32-bit hash of a key, never 0 (0 marks an empty slot). */
export type KeyHash = (key: string) => number;

/**
 * FNV-1a over the key's UTF-16 code units from a per-process random basis, then murmur3's finalizer so every bit
 * of the basis and the key reaches the low bits that pick a slot. The random basis keeps a caller from aiming keys
 * at one probe run (as V8 seeds its own string hash); a test may pass a basis, or any KeyHash to the table.
 */
export function seededHash(seed: number = randomBytes(4).readInt32LE(0)): KeyHash {
  return (key) => {
    let h = seed | 0;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    return h === 0 ? 1 : h;
  };
}

const INITIAL_SLOTS = 16;

/**
 * Linear probing at most half full (it doubles before it would be more), so a probe run is short and always ends
 * at an empty slot. A probe reads only the hashes, which sit side by side in one Int32Array, and reads an entry
 * only where the whole 32-bit hash matches. Removal needs no lookup: the entry knows its slot, and the entries
 * after it in its run shift back (no tombstones, so the table never has to be rebuilt to drop them).
 *
 * A JS `Map` was the table before: in a large cache each step of its bucket chains loads an entry and a key string
 * from anywhere in the heap, and dropping the evicted key means loading that key's string for its hash and walking
 * its chain again. The table's part of an evicting insert (a lookup that misses, a removal, an add) measured 0.2 µs
 * at 1,000 entries and 0.7-0.9 µs at 100,000 with the Map, 0.15 µs and about 0.4 µs with this table.
 */
export class EntryTable<E extends Slotted> {
  private hashes = new Int32Array(INITIAL_SLOTS);
  private slots: (E | undefined)[] = new Array<E | undefined>(INITIAL_SLOTS).fill(undefined);
  private count = 0;

  constructor(readonly hash: KeyHash = seededHash()) {}

  get size(): number {
    return this.count;
  }

  /** The entry stored under `key`; `hash` is `this.hash(key)`. */
  find(key: string, hash: number): E | undefined {
    const { hashes, slots } = this;
    const mask = hashes.length - 1;
    for (let i = hash & mask; hashes[i] !== 0; i = (i + 1) & mask) {
      if (hashes[i] === hash) {
        const entry = slots[i];
        if (entry !== undefined && entry.key === key) return entry;
      }
    }
    return undefined;
  }

  /** Stores `entry`, whose key is not in the table yet; `hash` is `this.hash(entry.key)`. */
  add(entry: E, hash: number): void {
    if ((this.count + 1) * 2 > this.hashes.length) this.grow();
    this.place(entry, hash);
    this.count++;
  }

  /** Takes out `entry`, which is in the table. */
  remove(entry: E): void {
    const { hashes, slots } = this;
    const mask = hashes.length - 1;
    let hole = entry.slot;
    // Backward shift: an entry further along the run moves into the hole unless its home slot lies after the hole
    // (cyclically, in (hole, at]), where a probe for it would stop at the hole before reaching it.
    for (let at = (hole + 1) & mask; hashes[at] !== 0; at = (at + 1) & mask) {
      const hash = hashes[at] as number;
      const home = hash & mask;
      if (hole <= at ? hole < home && home <= at : hole < home || home <= at) continue;
      const moved = slots[at] as E;
      hashes[hole] = hash;
      slots[hole] = moved;
      moved.slot = hole;
      hole = at;
    }
    hashes[hole] = 0;
    slots[hole] = undefined;
    entry.slot = -1;
    this.count--;
  }

  private place(entry: E, hash: number): void {
    const { hashes } = this;
    const mask = hashes.length - 1;
    let i = hash & mask;
    while (hashes[i] !== 0) i = (i + 1) & mask;
    hashes[i] = hash;
    this.slots[i] = entry;
    entry.slot = i;
  }

  private grow(): void {
    const { hashes, slots } = this;
    this.hashes = new Int32Array(hashes.length * 2);
    this.slots = new Array<E | undefined>(hashes.length * 2).fill(undefined);
    for (let i = 0; i < hashes.length; i++) {
      const entry = slots[i];
      if (entry !== undefined) this.place(entry, hashes[i] as number);
    }
  }
}
