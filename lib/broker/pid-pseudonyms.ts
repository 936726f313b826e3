// The audit record's pid_pseudonym: computed once per person and kept while a token for them can be served.
import { TokenCache } from "../cache/index.ts";
import type { PidPseudonymizer } from "../pseudonym/pseudonym-key.ts";

/** As long as the longest-lived token the broker caches (an Altinn token's 30 minutes): one HMAC per person per token. */
export const PSEUDONYM_TTL_SECONDS = 30 * 60;

export interface PidPseudonymsOptions {
  maxEntries: number;
  /** Monotonic clock, ms. */
  monotonic: () => number;
}

export class PidPseudonyms {
  private readonly cache: TokenCache<string>;

  constructor(
    private readonly pseudonymizer: PidPseudonymizer | undefined,
    private readonly options: PidPseudonymsOptions,
  ) {
    this.cache = new TokenCache<string>({ ...options, refreshAheadSeconds: 0 });
  }

  /**
   * The pid's pseudonym (concurrent requests for one person share one HMAC); null without a pid, or without a key
   * (then no rule allows pid: the broker refuses to start otherwise, and the request is denied).
   */
  async of(pid: string | undefined): Promise<string | null> {
    const pseudonymizer = this.pseudonymizer;
    if (pid === undefined || pseudonymizer === undefined) return null;
    const result = await this.cache.get(pid, 0, async () => ({
      value: await pseudonymizer.pseudonym(pid),
      expiresAt: this.options.monotonic() + PSEUDONYM_TTL_SECONDS * 1000,
    }));
    return result.value;
  }
}
