// One deadline per request: the moment by which every slow step (pseudonym, sign, upstream calls) must have given up.

/**
 * Time the broker keeps back from Lambda's remaining time: enough to write the audit record and answer after the
 * deadline stopped the work, on a throttled CPU, before Lambda would kill the invocation.
 */
export const DEADLINE_MARGIN_MS = 1000;

/** Calls `fire` once `ms` have passed. Tests pass one driven by their own clock. */
export type Alarm = (ms: number, fire: () => void) => void;

/** Node's timer, unreferenced: a deadline never keeps a process alive that has nothing else to do. */
export const timerAlarm: Alarm = (ms, fire) => {
  setTimeout(fire, ms).unref();
};

/** What a step that ran out of time rejects with; the step turns it into the problem its caller is told. */
export class DeadlinePassed extends Error {
  override name = "DeadlinePassed";
  constructor() {
    super("the request's deadline passed");
  }
}

export class Deadline {
  private controller: AbortController | undefined;

  /** `at` on the `monotonic` clock (ms). */
  constructor(
    readonly at: number,
    private readonly monotonic: () => number,
    private readonly alarm: Alarm,
  ) {}

  /** Lambda's remaining time less the margin, from now. */
  static fromRemaining(remainingMs: number, monotonic: () => number, alarm: Alarm): Deadline {
    return new Deadline(monotonic() + remainingMs - DEADLINE_MARGIN_MS, monotonic, alarm);
  }

  /**
   * Aborted when the deadline passes: give it to every call that can be cancelled. The alarm is set on first use,
   * so a request served from the cache sets none.
   */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = new AbortController();
      this.controller = controller;
      const left = this.at - this.monotonic();
      const abort = () => controller.abort(new DeadlinePassed());
      if (left <= 0) abort();
      else if (Number.isFinite(left)) this.alarm(left, abort);
    }
    return this.controller.signal;
  }

  /**
   * The signal for one upstream call: aborted with a TimeoutError once `timeoutMs` have passed on the deadline's
   * clock, or with DeadlinePassed at the deadline, whichever comes first.
   */
  callSignal(timeoutMs: number): AbortSignal {
    const call = new AbortController();
    this.alarm(timeoutMs, () => call.abort(new DOMException("The operation timed out", "TimeoutError")));
    // A listener, not AbortSignal.any: that took 1.3 M of the 157 M instructions to the first token (callgrind).
    const deadline = this.signal;
    if (deadline.aborted) call.abort(deadline.reason);
    else deadline.addEventListener("abort", () => call.abort(deadline.reason), { once: true });
    return call.signal;
  }

  get passed(): boolean {
    return this.controller?.signal.aborted === true || this.monotonic() >= this.at;
  }

  /** `work`'s result, or DeadlinePassed when the deadline comes first (work that takes no signal is left to run). */
  within<T>(work: Promise<T>): Promise<T> {
    const signal = this.signal;
    if (signal.aborted) return Promise.reject(new DeadlinePassed());
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new DeadlinePassed());
      signal.addEventListener("abort", onAbort, { once: true });
      work.then(
        (value) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
  }
}

/** A deadline that never comes, for work no request waits on (the key watch, a direct client call in a script). */
export function noDeadline(): Deadline {
  return new Deadline(Number.POSITIVE_INFINITY, () => performance.now(), timerAlarm);
}
