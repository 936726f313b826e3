import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPid } from "../../lib/request/pid.ts";
import { D_NUMBER, PID_A, pidOf, SYNTHETIC_PID_40, SYNTHETIC_PID_80 } from "../support/pid.ts";

const prod = { allowSynthetic: false };
const test = { allowSynthetic: true };

/** Valid DDMMYY + individual number prefixes: real dates, D-numbers (day + 40). */
const realPid = fc
  .record({
    day: fc.integer({ min: 1, max: 28 }),
    dNumber: fc.boolean(),
    month: fc.integer({ min: 1, max: 12 }),
    year: fc.integer({ min: 0, max: 99 }),
    individual: fc.integer({ min: 0, max: 999 }),
  })
  .map(({ day, dNumber, month, year, individual }) =>
    pidOf(dNumber ? day + 40 : day, month, year, individual),
  )
  .filter((pid): pid is string => pid !== undefined);

describe("pid: national identity numbers and D-numbers", () => {
  it("accepts a number whose control digits an independent computation agrees with", () => {
    expect(PID_A).toBe("17058510068");
    expect(isPid("17058510068", prod)).toBe(true);
    expect(isPid(D_NUMBER, prod)).toBe(true);
  });

  it("accepts every real date with computed control digits, in prod and test alike", () => {
    fc.assert(
      fc.property(realPid, (pid) => {
        expect(isPid(pid, prod)).toBe(true);
        expect(isPid(pid, test)).toBe(true);
      }),
    );
  });

  it("refuses every single-digit change of a valid pid (a wrong control digit or a broken date)", () => {
    fc.assert(
      fc.property(realPid, fc.integer({ min: 0, max: 10 }), fc.integer({ min: 1, max: 9 }), (pid, at, by) => {
        const changed = `${pid.slice(0, at)}${(Number(pid[at]) + by) % 10}${pid.slice(at + 1)}`;
        expect(isPid(changed, test)).toBe(false);
      }),
    );
  });

  it("refuses a wrong control digit", () => {
    const wrong = `${PID_A.slice(0, 10)}${(Number(PID_A[10]) + 1) % 10}`;
    expect(isPid(wrong, prod)).toBe(false);
  });

  it("refuses wrong lengths, non-digits and impossible dates", () => {
    const impossible = [
      pidOf(32, 1, 90, 100),
      pidOf(30, 2, 90, 101),
      pidOf(1, 13, 90, 102),
      pidOf(0, 1, 90, 1),
    ];
    for (const value of ["", "1705851006", "170585100688", "1705851006a", " 7058510068", "١٧٠٥٨٥١٠٠٦٨"]) {
      expect(isPid(value, test), JSON.stringify(value)).toBe(false);
    }
    for (const value of impossible) {
      if (value !== undefined) expect(isPid(value, test), value).toBe(false);
    }
  });

  it("accepts synthetic test identities (month + 40, month + 80) only when told to", () => {
    for (const pid of [SYNTHETIC_PID_40, SYNTHETIC_PID_80]) {
      expect(isPid(pid, test), pid).toBe(true);
      expect(isPid(pid, prod), pid).toBe(false);
    }
  });
});
