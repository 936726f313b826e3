// Refusals remembered per key for a short while, so a repeated request is answered without loading again.

export interface RefusalMemoryOptions {
  /** How long a refusal is remembered; 0 remembers none. */
  seconds: number;
  /** At most this many keys; the oldest refusal goes first. */
  maxEntries: number;
  /** Monotonic clock, ms. */
  monotonic: () => number;
}

export class RefusalMemory<E> {
  private readonly entries = new Map<string, { refusal: E; until: number }>();

  constructor(private readonly options: RefusalMemoryOptions) {}

  get size(): number {
    return this.entries.size;
  }

  /** Keeps `refusal` as the answer for `key` until the window has passed. */
  remember(key: string, refusal: E): void {
    if (this.options.seconds <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { refusal, until: this.options.monotonic() + this.options.seconds * 1000 });
    if (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  /** The refusal remembered for `key`, while its window lasts. */
  recall(key: string): E | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (this.options.monotonic() < entry.until) return entry.refusal;
    this.entries.delete(key);
    return undefined;
  }
}
