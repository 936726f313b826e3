// infra/ templates as moto's CloudFormation can take them, and as JSON (cfn-lint's decoder) for tests to read.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./package-service.ts";

/**
 * Two moto defects, not template errors (cfn-lint passes both, and CloudFormation's own schema says so), are worked
 * around on the copy moto gets: moto's AWS::KMS::Key reads `Tags` as `TagKey`/`TagValue` (CloudFormation's are
 * `Key`/`Value`; moto fails with KeyError 'TagKey'), so the key is created without its tags; and an Output with
 * `Fn::GetAtt` of a resource type moto lacks (an alarm's Arn) crashes moto's output validation (HTTP 500), so
 * those Outputs are dropped.
 */
export const MOTO_WORKAROUNDS: Record<string, (template: string) => string> = {
  "kms-key.yml": (template) => template.replace(/^ {6}Tags:\n(?: {8}.*\n)+/m, ""),
  "alarms.yml": (template) => template.replace(/^ {2}\w+AlarmArn:\n {4}Value: !GetAtt \w+Alarm\.Arn\n/gm, ""),
};

export const infraText = (file: string) => readFileSync(join(REPO_ROOT, "infra", file), "utf8");

/** The text moto's CloudFormation is given for an infra/ template. */
export const motoText = (file: string) =>
  (MOTO_WORKAROUNDS[file] ?? ((text: string) => text))(infraText(file));

export interface DecodedTemplate {
  Parameters?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Condition?: string; Properties?: Record<string, unknown> }>;
}

/** An infra/ template as JSON, intrinsic functions in their long form (`{"Fn::Sub": …}`), read by cfn-lint. */
export function decodedTemplate(file: string): DecodedTemplate {
  const script =
    "import json,sys\nfrom cfnlint.decode import decode\nprint(json.dumps(decode(sys.argv[1])[0]))";
  const json = execFileSync("python3", ["-c", script, join(REPO_ROOT, "infra", file)], { encoding: "utf8" });
  return JSON.parse(json) as DecodedTemplate;
}
