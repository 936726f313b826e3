// The audit record's pid_pseudonym: computed once per person and kept while a token for them can be served.
import { TokenCache } from "../cache/index.ts";
import { SigningUnavailable } from "../problem/index.ts";
import type { PidPseudonymizer } from "../pseudonym/pseudonym-key.ts";
import { type Deadline, DeadlinePassed, noDeadline } from "../upstream/deadline.ts";

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
   * (then no rule allows pid: the broker refuses to start otherwise, and the request is denied). A key that gives no
   * answer before the request's deadline is unavailable, as one that fails.
   */
  async of(pid: string | undefined, deadline: Deadline = noDeadline()): Promise<string | null> {
    const pseudonymizer = this.pseudonymizer;
    if (pid === undefined || pseudonymizer === undefined) return null;
    const pending = this.cache.get(pid, 0, async () => ({
      value: await pseudonymizer.pseudonym(pid),
      expiresAt: this.options.monotonic() + PSEUDONYM_TTL_SECONDS * 1000,
    }));
    try {
      return (await deadline.within(pending)).value;
    } catch (error) {
      if (!(error instanceof DeadlinePassed)) throw error;
      throw new SigningUnavailable(
        "The pid's pseudonym could not be computed before the request's deadline",
        {
          cause: error,
          causeName: error.name,
          auditReason: `the pid pseudonym key (${pseudonymizer.keyRef}) gave no answer before the request's deadline`,
        },
      );
    }
  }
}
