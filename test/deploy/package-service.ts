// Runs `npm run package` on a copy of the checkout (as a fresh clone would, with no AWS credentials),
// so test files can package side by side without sharing .serverless/ or .esbuild/.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
const SOURCES = [
  "serverless.yml",
  "package.json",
  "tsconfig.json",
  "policy.example.json",
  "clients.example.json",
  "functions",
  "lib",
  "scripts",
];

export interface PackagedService {
  dir: string;
  output: string;
  template: CloudFormationTemplate;
  stdout: string;
  /** Deletes the copy and its artifacts. */
  remove(): void;
}

export interface CloudFormationResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
}

export interface CloudFormationTemplate {
  Resources: Record<string, CloudFormationResource>;
}

/** A copy of the service in a temp dir, run as a fresh clone would be: no AWS credentials, an empty HOME. */
export function copyService(): { dir: string; env: NodeJS.ProcessEnv; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "mp-broker-package-"));
  for (const source of SOURCES) cpSync(join(REPO_ROOT, source), join(dir, source), { recursive: true });
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  const home = join(dir, "empty-home");
  mkdirSync(home);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, AWS_EC2_METADATA_DISABLED: "true" };
  for (const name of [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
  ]) {
    delete env[name];
  }
  return { dir, env, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Copies the service into a temp dir and packages it with `params` (`--param name=value`) and `options`. */
export async function packageService(
  params: Record<string, string> = {},
  options: string[] = [],
): Promise<PackagedService> {
  const { dir, env, remove } = copyService();
  const args = [
    "run",
    "package",
    "--",
    ...Object.entries(params).map(([name, value]) => `--param=${name}=${value}`),
    ...options,
  ];
  const { stdout } = await promisify(execFile)("npm", args, {
    cwd: dir,
    env,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: unknown) => {
    remove();
    throw error;
  });
  const output = join(dir, ".serverless");
  const template = JSON.parse(
    readFileSync(join(output, "cloudformation-template-update-stack.json"), "utf8"),
  ) as CloudFormationTemplate;
  return { dir, output, template, stdout, remove };
}
