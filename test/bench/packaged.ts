// What the packaged-function scenarios share: a fresh .serverless/ package, its deployed NODE_OPTIONS, the floor
// handlers bundled as the functions are, and probes run in fresh `node` processes that report one result line.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

export const ROOT = resolve(import.meta.dirname, "../..");
export const SERVERLESS = join(ROOT, ".serverless");

/** Newest modification time (ms) of the files the package is built from. */
function newestSource(): number {
  const files = ["serverless.yml", "package.json", "policy.example.json"].map((f) => join(ROOT, f));
  for (const dir of ["functions", "lib"]) {
    for (const name of readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" }))
      files.push(join(ROOT, dir, name));
  }
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

/** Packages when .serverless/ is missing or older than the sources, so the bench never measures a stale bundle. */
export function ensurePackage(): void {
  const zip = join(SERVERLESS, "token.zip");
  if (existsSync(zip) && statSync(zip).mtimeMs >= newestSource()) return;
  const result = spawnSync("npm", ["run", "package"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  if (result.status !== 0) throw new Error(`npm run package failed with exit code ${result.status}`);
}

/** The token function's environment in the packaged template (NODE_OPTIONS, POWERTOOLS_*, ...). */
export function deployedEnvironment(): Record<string, string> {
  const template = JSON.parse(
    readFileSync(join(SERVERLESS, "cloudformation-template-update-stack.json"), "utf8"),
  ) as {
    Resources: Record<string, { Properties?: { Environment?: { Variables?: Record<string, string> } } }>;
  };
  return template.Resources.TokenLambdaFunction?.Properties?.Environment?.Variables ?? {};
}

/**
 * Bundles the floor handlers (test/bench/floor) into `dir` with the functions' esbuild settings (minified ESM for
 * node24, dependencies bundled), no source map. Returns their file URLs.
 */
export async function buildFloors(dir: string): Promise<{ coldFloor: string; bareMiddy: string }> {
  await build({
    entryPoints: [
      join(import.meta.dirname, "floor/cold-floor.ts"),
      join(import.meta.dirname, "floor/bare-middy.ts"),
    ],
    outdir: dir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    minify: true,
    treeShaking: true,
    format: "esm",
    platform: "node",
    target: "node24",
    mainFields: ["module", "main"],
    logLevel: "error",
  });
  return {
    coldFloor: pathToFileURL(join(dir, "cold-floor.mjs")).href,
    bareMiddy: pathToFileURL(join(dir, "bare-middy.mjs")).href,
  };
}

export interface ProbeRun {
  /** test/bench/probes/<name>.mjs */
  probe: string;
  /** Written as JSON to a file the probe reads (BENCH_INPUT). */
  input: unknown;
  /** Working directory: the unpacked task root. */
  cwd: string;
  env: Record<string, string>;
  nodeOptions: string;
  /** Extra node flags (e.g. --cpu-prof). */
  execArgv?: string[];
  /**
   * The probe's stdout: /dev/null by default (no reader competes for the CPU), or a pipe the bench drains, as
   * Lambda's stdout is a pipe (what a cold start's first audit line costs depends on which).
   */
  stdout?: "null" | "pipe";
}

/**
 * Runs a probe in a fresh `node` and returns what it wrote to BENCH_OUTPUT. Its stdout (the audit log and EMF
 * documents) goes to /dev/null unless `stdout: "pipe"`: CloudWatch takes it off the process, so no reader
 * competes for the CPU.
 */
export async function runProbe<T>(run: ProbeRun): Promise<T> {
  const inputPath = join(run.cwd, `bench-input-${run.probe}.json`);
  const outputPath = join(run.cwd, `bench-output-${run.probe}.json`);
  writeFileSync(inputPath, JSON.stringify(run.input));
  rmSync(outputPath, { force: true });
  const child = spawn(
    process.execPath,
    [...(run.execArgv ?? []), join(import.meta.dirname, "probes", `${run.probe}.mjs`)],
    {
      cwd: run.cwd,
      env: {
        PATH: process.env.PATH ?? "",
        ...run.env,
        NODE_OPTIONS: run.nodeOptions,
        BENCH_INPUT: inputPath,
        BENCH_OUTPUT: outputPath,
      },
      stdio: ["ignore", run.stdout === "pipe" ? "pipe" : "ignore", "pipe"],
    },
  );
  child.stdout?.resume();
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0 || !existsSync(outputPath))
    throw new Error(`probe ${run.probe} exited with ${code} and no result:\n${stderr}`);
  return JSON.parse(readFileSync(outputPath, "utf8")) as T;
}
