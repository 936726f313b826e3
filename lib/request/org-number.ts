// Norwegian organisation numbers: nine digits whose last is a mod-11 check digit (weights 3,2,7,6,5,4,3,2).
import type { OrgNumber } from "./types.ts";

const WEIGHTS = [3, 2, 7, 6, 5, 4, 3, 2] as const;

/** True for nine digits with a valid check digit (remainder 0 -> 0; remainder 1 -> no valid number). */
export function isOrgNumber(value: string): value is OrgNumber {
  if (!/^\d{9}$/.test(value)) return false;
  const sum = WEIGHTS.reduce((acc, weight, i) => acc + weight * Number(value[i]), 0);
  const remainder = sum % 11;
  if (remainder === 1) return false;
  const check = remainder === 0 ? 0 : 11 - remainder;
  return check === Number(value[8]);
}
