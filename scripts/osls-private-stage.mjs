// osls plugin: which job runs at which step of `sls package` and `sls deploy` (the jobs: scripts/private-stage/).
// @ts-check
/** @import { PrivateStageSettings, ServerlessLike } from "./private-stage/types.ts" */
import { nameCallers } from "./private-stage/callers.mjs";
import { grantKeyAccess } from "./private-stage/key-access.mjs";
import { requireOwnRoles } from "./private-stage/own-roles.mjs";
import { deployProblems, settingsProblems } from "./private-stage/refusals.mjs";
import { compileStage } from "./private-stage/stage.mjs";

export { callerConditions } from "./private-stage/callers.mjs";
export { parseAdminSigningKey, parsePseudonymKey, parseSigningKeys } from "./private-stage/key-refs.mjs";
export { ACCESS_LOG_FORMAT } from "./private-stage/stage.mjs";

/** `sls deploy` and `sls deploy function`; `deploy list` changes nothing. */
const deploys = (/** @type {string[]} */ commands) => commands[0] === "deploy" && commands[1] !== "list";

export default class PrivateStagePlugin {
  /** @param {ServerlessLike} serverless */
  constructor(serverless) {
    this.serverless = serverless;
    /** @type {Record<string, () => void>} */
    this.hooks = {
      // Before osls packages anything: a deploy learns every problem at once, not one per attempt.
      initialize: () => {
        if (deploys(serverless.processedInput?.commands ?? [])) this.refuseDeploy();
      },
      "after:package:compileEvents": () => {
        this.refuseMalformedSettings();
        compileStage(this.resources, serverless.service.service, this.settings);
        nameCallers(this.resources, this.settings.callers);
        requireOwnRoles(serverless);
      },
      // The roles are in serverless.yml `resources:`, merged into the template only at this step.
      "after:aws:package:finalize:mergeCustomProviderResources": () => this.grantKeyAccess(),
    };
  }

  /** @returns {PrivateStageSettings} */
  get settings() {
    return this.serverless.service.custom?.privateStage ?? {};
  }

  get resources() {
    return this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
  }

  grantKeyAccess() {
    grantKeyAccess(this.resources, this.settings);
  }

  refuseMalformedSettings() {
    const problems = settingsProblems(this.settings);
    if (problems.length > 0) this.refuse("Refusing to package with malformed parameters", problems);
  }

  refuseDeploy() {
    const defaults = this.serverless.configurationInput?.params?.default ?? {};
    const problems = deployProblems(this.settings, defaults);
    const stage = this.serverless.processedInput?.options?.stage ?? this.serverless.service.provider.stage;
    if (problems.length > 0) this.refuse(`Refusing to deploy stage ${stage}`, problems);
  }

  /**
   * @param {string} what
   * @param {string[]} problems
   * @returns {never}
   */
  refuse(what, problems) {
    const list = problems.map((problem) => `  - ${problem}`).join("\n");
    throw new this.serverless.classes.Error(`${what} (docs/deployment.md, Parameters):\n${list}`);
  }
}
