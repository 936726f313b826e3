// Why `sls deploy` must not go ahead: every problem at once, each naming the parameter to set, never its value.
// @ts-check
/** @import { PrivateStageSettings } from "./types.ts" */
import { callerProblems, noCallerNamed } from "./callers.mjs";
import { adminKeyProblems, pseudonymKeyProblems, signingKeyProblems } from "./key-refs.mjs";

/** What is malformed in the settings: `sls package` fails on these too, all of them in one message. */
export function settingsProblems(/** @type {PrivateStageSettings} */ settings) {
  return [
    ...callerProblems(settings.callers),
    ...signingKeyProblems(settings.signingKeys),
    ...adminKeyProblems(settings.adminSigningKey),
    ...pseudonymKeyProblems(settings.pidPseudonymKey),
  ];
}

/**
 * Everything that stops a deploy: the malformed settings, no caller named, and each param that still has its
 * placeholder default (`placeholders` maps the param to its resolved value, `defaults` is params.default).
 * @param {PrivateStageSettings} settings
 * @param {Record<string, unknown>} defaults
 * @returns {string[]}
 */
export function deployProblems(settings, defaults) {
  const problems = settingsProblems(settings);
  if (noCallerNamed(settings.callers)) {
    problems.push(
      "no caller is named: set callerOrgId and/or callerPrincipalArns (the API would admit nobody)",
    );
  }
  for (const [name, value] of (settings.placeholders ?? []).flatMap((params) => Object.entries(params))) {
    if (!(name in defaults))
      throw new Error(`osls-private-stage: placeholder ${name} is no param of params.default`);
    if (String(value) === String(defaults[name])) {
      problems.push(
        `${name} still has its placeholder default: set it in the stage's params or with --param`,
      );
    }
  }
  return problems;
}
