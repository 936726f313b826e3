import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPid } from "../../lib/request/pid.ts";
import {
  D_NUMBER,
  PID_A,
  pidOf,
  SYNTHETIC_PID_40,
  SYNTHETIC_PID_80,
  secondControlDigit,
  somePid,
} from "../support/pid.ts";

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

  it("refuses wrong lengths and non-digits", () => {
    for (const value of ["", "1705851006", "170585100688", "1705851006a", " 7058510068", "١٧٠٥٨٥١٠٠٦٨"]) {
      expect(isPid(value, test), JSON.stringify(value)).toBe(false);
    }
  });

  it("refuses a day past its month's last, a month past 12 and day or month 0, with valid control digits", () => {
    // somePid finds control digits that fit, so only the date can refuse these.
    const impossible = [
      somePid(32, 1, 1990),
      somePid(30, 2, 1990),
      somePid(32, 3, 1990),
      somePid(31, 4, 1990),
      somePid(31, 6, 1990),
      somePid(31, 9, 1990),
      somePid(31, 11, 1990),
      somePid(32, 12, 1990),
      somePid(72, 1, 1990),
      somePid(71, 4, 1990),
      somePid(40, 1, 1990),
      somePid(1, 13, 1990),
      somePid(1, 0, 1990),
      somePid(0, 1, 1990),
    ];
    for (const value of impossible) {
      expect(isPid(value, test), value).toBe(false);
      expect(isPid(value, prod), value).toBe(false);
    }
  });

  it("accepts each month's last day, February 29 and the D-number of each (day + 40)", () => {
    const lastDays = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    lastDays.forEach((day, i) => {
      for (const value of [
        somePid(day, i + 1, 1984),
        somePid(day + 40, i + 1, 1984),
        somePid(1, i + 1, 1984),
      ]) {
        expect(isPid(value, prod), value).toBe(true);
      }
    });
  });

  it("refuses a wrong first control digit even when the second is computed to fit it", () => {
    fc.assert(
      fc.property(realPid, fc.integer({ min: 1, max: 9 }), (pid, by) => {
        const ten = `${pid.slice(0, 9)}${(Number(pid[9]) + by) % 10}`;
        const fitted = secondControlDigit(ten);
        fc.pre(fitted !== 10);
        expect(isPid(`${ten}${fitted}`, test)).toBe(false);
      }),
    );
  });

  it("refuses a space, tab or other non-digit where a valid pid has a 0 (Number(' ') is 0)", () => {
    fc.assert(
      fc.property(
        realPid.filter((pid) => pid.includes("0")),
        fc.constantFrom(" ", "\t", "\n", "+", "-", "."),
        (pid, stand) => {
          for (let at = pid.indexOf("0"); at !== -1; at = pid.indexOf("0", at + 1)) {
            const changed = `${pid.slice(0, at)}${stand}${pid.slice(at + 1)}`;
            expect(isPid(changed, test), JSON.stringify(changed)).toBe(false);
          }
        },
      ),
    );
    expect(isPid(` ${somePid(7, 5, 1985).slice(1)}`, test)).toBe(false);
  });

  it("takes synthetic months 41 to 52 and 81 to 92 as months 1 to 12, and no month around them", () => {
    for (const month of [41, 52, 81, 92]) expect(isPid(somePid(1, month, 1991), test), `${month}`).toBe(true);
    for (const month of [40, 53, 80, 93])
      expect(isPid(somePid(1, month, 1991), test), `${month}`).toBe(false);
  });

  it("accepts synthetic test identities (month + 40, month + 80) only when told to", () => {
    for (const pid of [SYNTHETIC_PID_40, SYNTHETIC_PID_80]) {
      expect(isPid(pid, test), pid).toBe(true);
      expect(isPid(pid, prod), pid).toBe(false);
    }
  });
});
