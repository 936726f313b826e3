// PID_PSEUDONYM_KEY: where the HMAC key of audit records' pid_pseudonym lives; required when the policy allows pid.
import { keyRef, section } from "./variables.ts";

/** The key's reference when set (lib/pseudonym checks the key itself, and that the policy needs it). */
export const readPidPseudonymKey = section(
  { PID_PSEUDONYM_KEY: keyRef("PID_PSEUDONYM_KEY") },
  (e) => e.PID_PSEUDONYM_KEY,
);
