// The eviction curve: what one evicting insert into a full TokenCache costs at 1,000, 10,000 and 100,000 entries.
// Each insert is a miss for a new key through `get` (load resolved at once), so it also pays the single-flight path.
import { TokenCache } from "../../../lib/cache/index.ts";
import { type Figure, median } from "../figures.ts";

const SIZES = [1_000, 10_000, 100_000];
const INSERTS = 5_000;
/** 25, not 9: one batch lasts 5-10 ms, so a median of 9 moved with a busy neighbour (1.4x-1.8x run to run, same code). */
const BATCHES = 25;
/** Goal: O(1) eviction: an evicting insert at 100,000 entries costs at most 3x one at 1,000. */
const FLAT_GOAL = 3;

interface Full {
  size: number;
  cache: TokenCache<number>;
  /** The keys still to insert: made up front (the broker's cacheKey makes them), so only the insert is timed. */
  keys: string[];
  batches: number[];
}

const NOW = 1_000;
const load = async () => ({ value: 1, expiresAt: NOW + 3_600_000 });

async function fill(size: number): Promise<Full> {
  const cache = new TokenCache<number>({ maxEntries: size, refreshAheadSeconds: 0, monotonic: () => NOW });
  for (let i = 0; i < size; i++) await cache.get(`${size}-key-${i}`, 30, load);
  // Hits on every other key in the older half, as a serving cache sees: the recency order is not insertion order.
  for (let i = 0; i < size / 2; i += 2) await cache.get(`${size}-key-${i}`, 30, load);
  const keys = Array.from({ length: BATCHES * INSERTS }, (_, i) => `${size}-key-${size + i}`);
  return { size, cache, keys, batches: [] };
}

/**
 * CPU µs per evicting insert over one batch (process.cpuUsage: this process's CPU, not time spent waiting for a
 * core on a loaded machine).
 */
async function batch(full: Full, b: number): Promise<void> {
  const before = process.cpuUsage();
  for (let i = b * INSERTS; i < (b + 1) * INSERTS; i++) await full.cache.get(full.keys[i] ?? "", 30, load);
  const used = process.cpuUsage(before);
  if (full.cache.size !== full.size) throw new Error(`the cache holds ${full.cache.size}, not ${full.size}`);
  full.batches.push((used.user + used.system) / INSERTS);
}

export default async function run(): Promise<Figure[]> {
  const warmUp = await fill(1_000);
  for (let b = 0; b < BATCHES; b++) await batch(warmUp, b); // JIT
  const caches: Full[] = [];
  for (const size of SIZES) caches.push(await fill(size));
  // Batches alternate between the sizes, so load on the machine and GC of the one heap fall on all of them alike.
  for (let b = 0; b < BATCHES; b++) for (const full of caches) await batch(full, b);
  const cost = (full: Full | undefined) => (full === undefined ? Number.NaN : median(full.batches));
  const scenario = "LRU eviction, TokenCache full";
  const [smallest, largest] = [caches[0], caches.at(-1)];
  return [
    ...caches.map((full) => ({
      scenario,
      metric: `evicting insert at ${full.size.toLocaleString("en")} entries (median)`,
      value: cost(full),
      unit: "µs CPU",
      note: `${BATCHES} batches of ${INSERTS.toLocaleString("en")} misses on new keys, each evicting the least recently used; batches alternate between the sizes`,
    })),
    {
      scenario: "headline",
      metric: `evicting insert at ${largest?.size.toLocaleString("en")} vs ${smallest?.size.toLocaleString("en")} entries`,
      value: cost(largest) / cost(smallest),
      unit: "x",
      budget: { op: "<=", limit: FLAT_GOAL },
    },
  ];
}
