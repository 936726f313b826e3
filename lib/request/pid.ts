// Norwegian national identity numbers and D-numbers (the `pid` of end-user-restricted tokens): date part and mod-11 control digits.
import type { Pid } from "./types.ts";

const K1_WEIGHTS = [3, 7, 6, 1, 8, 9, 4, 5, 2] as const;
const K2_WEIGHTS = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2] as const;
/** Longest day per month; February 29 since the century (and so the leap year) is not known here. */
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** What the broker says about a pid that is not one; it never repeats the value (a pid is personal data). */
export const PID_MESSAGE =
  "pid: expected an 11-digit national identity or D-number with valid control digits";

/**
 * Why a request field other than pid is refused when it holds a run of 11 or more digits (holdsDigitRun): the broker would otherwise write it to
 * the audit log, the denial and the grant (a pid is personal data, and goes in the pid field).
 */
export const PID_ELSEWHERE =
  "must not hold 11 or more digits in a row (a national identity number goes in pid)";

export interface PidOptions {
  /**
   * Accept the synthetic identities of the national test data (month + 40, or month + 80): only in
   * Maskinporten's test environment, where no real person can carry them.
   */
  allowSynthetic: boolean;
}

/** mod-11 control digit of `digits` under `weights`, or undefined when the remainder leaves no valid digit. */
function controlDigit(digits: string, weights: readonly number[]): number | undefined {
  const sum = weights.reduce((acc, weight, i) => acc + weight * Number(digits[i]), 0);
  const check = (11 - (sum % 11)) % 11;
  return check === 10 ? undefined : check;
}

/** True for 11 digits with a plausible date (D-number: day + 40) and both control digits valid. */
export function isPid(value: string, options: PidOptions): value is Pid {
  if (value.length !== 11 || !/^\d{11}$/.test(value)) return false;
  let day = Number(value.slice(0, 2));
  let month = Number(value.slice(2, 4));
  if (day > 40) day -= 40;
  if (options.allowSynthetic && month > 80) month -= 80;
  else if (options.allowSynthetic && month > 40) month -= 40;
  if (month < 1 || month > 12 || day < 1 || day > (DAYS_IN_MONTH[month - 1] ?? 0)) return false;
  return (
    controlDigit(value, K1_WEIGHTS) === Number(value[9]) &&
    controlDigit(value, K2_WEIGHTS) === Number(value[10])
  );
}
