// Loads the policy named by the configuration (POLICY_FILE or inline POLICY) once per cold start.
import { documentText, type PolicySource } from "../config/index.ts";
import { type Policy, PolicyError, validatePolicy } from "./schema.ts";

/**
 * Reads, parses and validates the policy against the configured client names; any problem throws PolicyError
 * (the function refuses to start).
 */
export async function loadPolicy(source: PolicySource, clients?: readonly string[]): Promise<Policy> {
  const origin = source.kind === "file" ? `POLICY_FILE ${source.path}` : "POLICY";
  const read = documentText(source, origin);
  if ("error" in read) throw new PolicyError(read.error);
  let document: unknown;
  try {
    document = JSON.parse(read.text);
  } catch (error) {
    throw new PolicyError(`${origin}: not valid JSON (${(error as Error).message})`);
  }
  return validatePolicy(document, origin, clients);
}
