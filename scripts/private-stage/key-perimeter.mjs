// The key perimeter of the function roles: a role that may sign, MAC or read a key secret may do so only from
// inside its own function (lambda:SourceFunctionArn), never with its credentials used anywhere else.
// @ts-check
/** @import { Resources, Statement } from "./types.ts" */

/** Every action that uses a key or reads key material: denied outside the role's own function. */
export const KEY_USE_ACTIONS = ["kms:Sign", "kms:GenerateMac", "secretsmanager:GetSecretValue"];
export const PERIMETER_SID = "KeysOnlyFromOwnFunction";

/**
 * The function that runs with role `roleId` in the compiled template, as an ARN built from its fixed name (a
 * `Fn::GetAtt` of the function would make the role depend on the function that depends on it).
 * @param {Resources} resources
 * @param {string} roleId
 */
export function functionArnOf(resources, roleId) {
  const functions = Object.values(resources).filter((resource) => {
    const role = /** @type {{ "Fn::GetAtt"?: string[] } | undefined} */ (resource.Properties?.Role);
    return resource.Type === "AWS::Lambda::Function" && role?.["Fn::GetAtt"]?.[0] === roleId;
  });
  const name = functions[0]?.Properties?.FunctionName;
  if (functions.length !== 1 || typeof name !== "string") {
    throw new Error(
      `osls-private-stage: role ${roleId} has key access, so exactly one named function must run with it (found ${functions.length})`,
    );
  }
  return { "Fn::Sub": `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${name}` };
}

/**
 * The identity-policy Deny: key policies cannot test lambda:SourceFunctionArn, identity policies can. Lambda sets
 * it on every call made with the function's credentials from inside the function; elsewhere (credentials copied
 * out, the role assumed after its trust was edited) the key is absent, ArnNotEquals holds, and the call is denied.
 * @param {unknown} functionArn
 * @returns {Statement}
 */
export function perimeterStatement(functionArn) {
  return {
    Sid: PERIMETER_SID,
    Effect: "Deny",
    Action: KEY_USE_ACTIONS,
    Resource: "*",
    Condition: { ArnNotEquals: { "lambda:SourceFunctionArn": functionArn } },
  };
}
