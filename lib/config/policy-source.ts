// POLICY_FILE / POLICY: where the policy is, a file or inline JSON; lib/policy reads and checks it.
import type { DocumentSource } from "./document-source.ts";
import type { Read } from "./problems.ts";
import type { Env } from "./variables.ts";

export type PolicySource = DocumentSource;

/** Exactly one of POLICY_FILE and POLICY set (and not empty). */
export function readPolicySource(env: Env): Read<PolicySource> {
  const [file, inline] = [env.POLICY_FILE?.trim(), env.POLICY?.trim()];
  if (file && inline) return { errors: ["POLICY_FILE / POLICY: set one of them, not both"] };
  if (file) return { value: { kind: "file", path: file } };
  if (inline) return { value: { kind: "inline", json: inline } };
  return {
    errors: [
      "POLICY_FILE / POLICY: expected a policy file path or inline policy JSON; see docs/api.md (Policy)",
    ],
  };
}
