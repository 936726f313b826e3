import { describe, expect, it } from "vitest";
import { PidPseudonyms, PSEUDONYM_TTL_SECONDS } from "../../lib/broker/pid-pseudonyms.ts";
import type { PidPseudonymizer } from "../../lib/pseudonym/pseudonym-key.ts";
import { PID_A, PID_B } from "../support/pid.ts";

/** A pseudonymizer that counts its HMACs. */
function counting(): PidPseudonymizer & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    keyRef: "file:/test",
    async pseudonym(pid) {
      calls.push(pid);
      return `pseudonym-of-${calls.length}`;
    },
  };
}

describe("PidPseudonyms", () => {
  it("computes one HMAC per person, shared by concurrent and later requests, and a new one after its time", async () => {
    let now = 0;
    const inner = counting();
    const pseudonyms = new PidPseudonyms(inner, { maxEntries: 10, monotonic: () => now });
    const [a1, a2] = await Promise.all([pseudonyms.of(PID_A), pseudonyms.of(PID_A)]);
    expect(a1).toBe(a2);
    expect(await pseudonyms.of(PID_A)).toBe(a1);
    expect(await pseudonyms.of(PID_B)).not.toBe(a1);
    expect(inner.calls).toEqual([PID_A, PID_B]);
    now += (PSEUDONYM_TTL_SECONDS + 1) * 1000;
    await pseudonyms.of(PID_A);
    expect(inner.calls).toEqual([PID_A, PID_B, PID_A]);
  });

  it("is null without a pid, and without a key", async () => {
    const inner = counting();
    expect(await new PidPseudonyms(inner, { maxEntries: 10, monotonic: () => 0 }).of(undefined)).toBeNull();
    expect(await new PidPseudonyms(undefined, { maxEntries: 10, monotonic: () => 0 }).of(PID_A)).toBeNull();
    expect(inner.calls).toEqual([]);
  });
});
