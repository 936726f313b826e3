// The key references of custom.privateStage (`kms:<key ARN>`, `secretsmanager:<secret ARN>`), read and checked.
// @ts-check
/** @import { SigningKeysBySource } from "./types.ts" */

const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[A-Za-z0-9-]+$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

/** @param {unknown} value a comma-separated setting @returns {string[]} its non-empty items, trimmed */
export const list = (value) =>
  String(value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");

/**
 * Groups refs by source; what is neither goes to `problems`, each naming the setting it came from.
 * @param {string[]} refs
 * @param {string} what how a problem names the setting, e.g. `pid pseudonym key (pidPseudonymKey)`
 * @param {string} expected what the setting takes
 */
function read(refs, what, expected) {
  /** @type {SigningKeysBySource} */
  const keys = { kms: [], secretsmanager: [] };
  /** @type {string[]} */
  const problems = [];
  for (const ref of refs) {
    const colon = ref.indexOf(":");
    const source = ref.slice(0, colon);
    const arn = ref.slice(colon + 1);
    if (source === "kms" && KMS_KEY_ARN.test(arn)) keys.kms.push(arn);
    else if (source === "secretsmanager" && SECRET_ARN.test(arn)) keys.secretsmanager.push(arn);
    else problems.push(`${what} "${ref}" is neither ${expected}`);
  }
  return { keys, problems };
}

const SIGNING = "kms:<key ARN> (an alias does not work in IAM) nor secretsmanager:<full secret ARN>";

/** @param {unknown} value the broker's signing key refs (signingKeySource:signingKeyArn, or clientSigningKeys) */
export function signingKeyProblems(value) {
  const refs = list(value);
  if (refs.length === 0)
    return ["no signing key: set signingKeyArn, or clientSigningKeys with clients: several"];
  return read(refs, "signing key (signingKeySource:signingKeyArn or clientSigningKeys)", SIGNING).problems;
}

/** @param {unknown} value the admin client's key ref (keyAdminSigningKey); empty is none */
export function adminKeyProblems(value) {
  return read(list(value), "admin signing key (keyAdminSigningKey)", SIGNING).problems;
}

/** @param {unknown} value the pid pseudonym key ref (pidPseudonymKey); empty is none */
export function pseudonymKeyProblems(value) {
  const refs = list(value);
  const problems = refs.length > 1 ? ["pidPseudonymKey takes one key"] : [];
  const expected = "kms:<HMAC key ARN> nor secretsmanager:<full secret ARN>";
  return [...problems, ...read(refs, "pid pseudonym key (pidPseudonymKey)", expected).problems];
}

/** @param {string[]} problems */
function refuse(problems) {
  if (problems.length > 0) throw new Error(`osls-private-stage: ${problems.join("; ")}`);
}

/** `kms:<key ARN>` / `secretsmanager:<secret ARN>` refs, comma-separated, grouped by source. */
export function parseSigningKeys(/** @type {unknown} */ value) {
  refuse(signingKeyProblems(value));
  return read(list(value), "", "").keys;
}

/** The pid pseudonym key grouped by source; `undefined` when empty (no pid rules). */
export function parsePseudonymKey(/** @type {unknown} */ value) {
  refuse(pseudonymKeyProblems(value));
  return list(value).length === 0 ? undefined : read(list(value), "", "").keys;
}

/** The separate admin client's key grouped by source; `undefined` when empty. */
export function parseAdminSigningKey(/** @type {unknown} */ value) {
  refuse(adminKeyProblems(value));
  return list(value).length === 0 ? undefined : read(list(value), "", "").keys;
}
