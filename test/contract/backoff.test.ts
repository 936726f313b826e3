import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BACKOFF_BASE_MS, backoffMs, parseRetryAfter } from "../../lib/contract/index.ts";

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

describe("backoffMs", () => {
  it("waits between half and all of base * 2^(retry-1)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, r) => {
          const ceiling = BACKOFF_BASE_MS * 2 ** (retry - 1);
          const wait = backoffMs(retry, r);
          expect(wait).toBeGreaterThanOrEqual(ceiling / 2);
          expect(wait).toBeLessThanOrEqual(ceiling);
        },
      ),
    );
  });
});

describe("parseRetryAfter", () => {
  it("reads delta-seconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 86_400 }), (s) => {
        expect(parseRetryAfter(String(s), NOW)).toBe(s * 1000);
      }),
    );
  });

  it("reads an HTTP date as the time from now, never negative", () => {
    fc.assert(
      fc.property(fc.integer({ min: -3600, max: 3600 }), (s) => {
        expect(parseRetryAfter(new Date(NOW + s * 1000).toUTCString(), NOW)).toBe(Math.max(0, s * 1000));
      }),
    );
  });

  it("ignores what is neither", () => {
    for (const junk of [undefined, null, "", "2.5", "-1", "soon", "1e3", "Wed, 21 Oct 2015 07:28:00 PST"]) {
      expect(parseRetryAfter(junk, NOW)).toBeUndefined();
    }
    fc.assert(
      fc.property(fc.string(), (s) => {
        const ms = parseRetryAfter(s, NOW);
        expect(ms === undefined || (Number.isFinite(ms) && ms >= 0)).toBe(true);
      }),
    );
  });
});
