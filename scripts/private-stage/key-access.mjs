// Key IAM: each function role gets exactly the key actions it is configured for, on exactly the configured keys.
// @ts-check
/** @import { PrivateStageSettings, Resources, SigningKeysBySource, Statement } from "./types.ts" */
import { functionArnOf, perimeterStatement } from "./key-perimeter.mjs";
import { parseAdminSigningKey, parsePseudonymKey, parseSigningKeys } from "./key-refs.mjs";

/** @typedef {Record<keyof SigningKeysBySource, string[]>} ActionsBySource */

/** What each kind of access grants, per key source. @type {Record<"sign" | "publicKey", ActionsBySource>} */
const KEY_ACCESS = {
  sign: { kms: ["kms:Sign", "kms:GetPublicKey"], secretsmanager: ["secretsmanager:GetSecretValue"] },
  publicKey: { kms: ["kms:GetPublicKey"], secretsmanager: ["secretsmanager:GetSecretValue"] },
};
/** The pid pseudonym key (PID_PSEUDONYM_KEY): an HMAC computed in KMS, or a secret read once. */
const PSEUDONYM_ACCESS = { kms: ["kms:GenerateMac"], secretsmanager: ["secretsmanager:GetSecretValue"] };

/**
 * The statements of role `roleId`'s first inline policy, to append to.
 * @param {Resources} resources
 * @param {string} roleId
 * @param {string} what what is being granted, for the error
 * @returns {Statement[]}
 */
function statementsOf(resources, roleId, what) {
  const role = resources[roleId];
  const policies = /** @type {{ PolicyDocument: { Statement: Statement[] } }[] | undefined} */ (
    role?.Properties?.Policies
  );
  const first = policies?.[0];
  if (role?.Type !== "AWS::IAM::Role" || first === undefined) {
    throw new Error(`osls-private-stage: no role ${roleId} to grant ${what} to`);
  }
  return first.PolicyDocument.Statement;
}

/**
 * Appends the key statements of custom.privateStage.keyAccess (and the pid pseudonym key) to each named role's first
 * policy, then to each of those roles the Deny that keeps its key use inside its own function.
 * @param {Resources} resources
 * @param {PrivateStageSettings} settings
 */
export function grantKeyAccess(resources, settings) {
  const keys = parseSigningKeys(settings.signingKeys);
  const adminKey = parseAdminSigningKey(settings.adminSigningKey);
  /** @type {Set<string>} */
  const granted = new Set();
  /**
   * @param {string} roleId
   * @param {string} what
   * @param {ActionsBySource} actions
   * @param {SigningKeysBySource} keysBySource
   */
  const grant = (roleId, what, actions, keysBySource) => {
    const statements = statementsOf(resources, roleId, what);
    for (const source of /** @type {const} */ (["kms", "secretsmanager"])) {
      if (keysBySource[source].length === 0) continue;
      statements.push({ Effect: "Allow", Action: actions[source], Resource: keysBySource[source] });
    }
    granted.add(roleId);
  };
  for (const [roleId, access] of Object.entries(settings.keyAccess ?? {})) {
    if (access === "admin") {
      // The key watch: with a separate admin client it signs only with that client's key and reads the serving
      // keys' public halves (to tell which registered key is theirs); without one, it signs with them.
      if (adminKey === undefined) grant(roleId, "key access", KEY_ACCESS.sign, keys);
      else {
        grant(roleId, "key access", KEY_ACCESS.sign, adminKey);
        grant(roleId, "key access", KEY_ACCESS.publicKey, keys);
      }
      continue;
    }
    if (access !== "sign" && access !== "publicKey") {
      throw new Error(`osls-private-stage: key access "${access}" is not sign, publicKey or admin`);
    }
    grant(roleId, "key access", KEY_ACCESS[access], keys);
  }
  const pseudonymKey = parsePseudonymKey(settings.pidPseudonymKey);
  // One role or several: every function that builds the broker checks the key at cold start.
  if (pseudonymKey !== undefined) {
    for (const roleId of [settings.pidPseudonymKeyRole ?? []].flat()) {
      grant(roleId, "the pid pseudonym key", PSEUDONYM_ACCESS, pseudonymKey);
    }
  }
  for (const roleId of granted) {
    statementsOf(resources, roleId, "key access").push(perimeterStatement(functionArnOf(resources, roleId)));
  }
}
