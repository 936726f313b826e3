// Test support: a monotonic clock and alarms that move only when the test says, for deadlines and timeouts.
import type { Alarm } from "../../lib/upstream/deadline.ts";

export interface VirtualClock {
  /** Milliseconds since the clock was made. */
  readonly now: number;
  readonly monotonic: () => number;
  readonly alarm: Alarm;
  /** Alarms set and not yet fired. */
  readonly pendingAlarms: number;
  /** A sleep that moves the clock by its own length (the broker's retry waits). */
  readonly sleep: (ms: number) => Promise<void>;
  /** Moves the clock forward, firing every alarm that falls due, in order. */
  advance(ms: number): void;
}

export function virtualClock(): VirtualClock {
  let now = 0;
  const alarms: { at: number; fire: () => void }[] = [];
  const advance = (ms: number): void => {
    const until = now + ms;
    for (;;) {
      alarms.sort((a, b) => a.at - b.at);
      const due = alarms[0];
      if (due === undefined || due.at > until) break;
      alarms.shift();
      now = due.at;
      due.fire();
    }
    now = until;
  };
  return {
    get now() {
      return now;
    },
    get pendingAlarms() {
      return alarms.length;
    },
    monotonic: () => now,
    alarm: (ms, fire) => {
      alarms.push({ at: now + ms, fire });
    },
    sleep: async (ms) => advance(ms),
    advance,
  };
}
