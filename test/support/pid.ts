// Test support: national identity numbers built from a date and an individual number, control digits computed.

const K1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const K2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

const check = (digits: string, weights: number[]): number =>
  (11 - (weights.reduce((acc, w, i) => acc + w * Number(digits[i]), 0) % 11)) % 11;

/**
 * The pid for DDMMYY + a 3-digit individual number, or undefined when no control digit fits (remainder 10).
 * Offsets: D-number day + 40, synthetic test identities month + 40 or + 80.
 */
export function pidOf(day: number, month: number, year: number, individual: number): string | undefined {
  const two = (n: number) => String(n).padStart(2, "0");
  const nine = `${two(day)}${two(month)}${two(year % 100)}${String(individual).padStart(3, "0")}`;
  const k1 = check(nine, K1);
  if (k1 === 10) return undefined;
  const k2 = check(`${nine}${k1}`, K2);
  return k2 === 10 ? undefined : `${nine}${k1}${k2}`;
}

/** The second control digit for the first ten digits (remainder 10 gives 10, which no pid can carry). */
export const secondControlDigit = (ten: string): number => check(ten, K2);

/** The first valid pid at or after `individual` for that date. */
export function somePid(day: number, month: number, year: number, individual = 100): string {
  for (let i = individual; i < 1000; i++) {
    const pid = pidOf(day, month, year, i);
    if (pid !== undefined) return pid;
  }
  throw new Error("no valid pid for that date");
}

/** Two people and a D-number, valid in every environment. */
export const PID_A = somePid(17, 5, 1985, 100);
export const PID_B = somePid(3, 11, 1962, 400);
export const D_NUMBER = somePid(41, 1, 1990, 200);
/** Synthetic test identities (national test data): valid only with MASKINPORTEN_ENV=test. */
export const SYNTHETIC_PID_40 = somePid(12, 46, 1991, 300);
export const SYNTHETIC_PID_80 = somePid(12, 86, 1991, 300);
