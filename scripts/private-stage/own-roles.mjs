// A role per function: refuses the shared role osls would generate, and two functions sharing one.
// @ts-check
/** @import { ServerlessLike } from "./types.ts" */

/**
 * Every function runs with a role of its own, never the shared role osls creates by default; drops the role
 * from each function's DependsOn, which its `Role: Fn::GetAtt` already implies.
 * @param {ServerlessLike} serverless
 */
export function requireOwnRoles(serverless) {
  const service = serverless.service;
  const resources = service.provider.compiledCloudFormationTemplate.Resources;
  const naming = serverless.getProvider?.("aws").naming;
  if (naming === undefined) throw new Error("osls-private-stage: no aws provider to name the roles");
  if (resources[naming.getRoleLogicalId()] !== undefined) {
    throw new Error("osls-private-stage: every function needs its own `role`; osls generated a shared one");
  }
  const names = service.getAllFunctions?.() ?? [];
  const roleOf = (/** @type {string} */ name) => String(service.getFunction?.(name).role);
  const roles = names.map(roleOf);
  if (new Set(roles).size !== roles.length) {
    throw new Error(`osls-private-stage: two functions share a role (${roles.join(", ")})`);
  }
  for (const name of names) {
    const fn = resources[naming.getLambdaLogicalId(name)];
    if (fn !== undefined && Array.isArray(fn.DependsOn)) {
      fn.DependsOn = fn.DependsOn.filter((id) => id !== roleOf(name));
    }
  }
}
