// Loads the policy named by the configuration (POLICY_FILE or inline POLICY) once per cold start.
import { readFileSync } from "node:fs";
import type { PolicySource } from "../config/index.ts";
import { type Policy, PolicyError, validatePolicy } from "./schema.ts";

/**
 * Reads, parses and validates the policy against the configured client names; any problem throws PolicyError
 * (the function refuses to start).
 */
export async function loadPolicy(source: PolicySource, clients?: readonly string[]): Promise<Policy> {
  const origin = source.kind === "file" ? `POLICY_FILE ${source.path}` : "POLICY";
  let text: string;
  if (source.kind === "file") {
    try {
      text = readFileSync(source.path, "utf8");
    } catch (error) {
      throw new PolicyError(
        `${origin}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  } else {
    text = source.json;
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new PolicyError(`${origin}: not valid JSON (${(error as Error).message})`);
  }
  return validatePolicy(document, origin, clients);
}
