// Cold start of the packaged token function: size of the bundle in the zip `npm run package` wrote, and, in fresh
// Node processes, the time to import it and to answer the first /token (config, policy, key, one grant, emulator).
import { execFile, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { lambdaContext } from "../../../dev/api-gateway-event.ts";
import { readZip } from "../../../scripts/zip.ts";
import { unpackTask } from "../../deploy/lambda-runtime.ts";
import { startBrokerFixture, tokenEvent } from "../../support/broker-fixture.ts";
import { type Figure, median } from "../figures.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const SERVERLESS = join(ROOT, ".serverless");
const RUNS = 9;
const SCENARIO = "cold start, packaged token function";
const RESULT = "BENCH_COLD_START ";

/** Runs in a fresh `node`: what Lambda does on a cold start, timed from inside the process. */
const COLD_SCRIPT = `
import { readFileSync } from "node:fs";
const input = JSON.parse(readFileSync(process.env.BENCH_INPUT, "utf8"));
const t0 = performance.now();
const { handler } = await import(input.bundle);
const t1 = performance.now();
const context = { ...input.context, getRemainingTimeInMillis: () => 28000 };
const response = await handler(input.event, context);
const t2 = performance.now();
process.stdout.write("\\n${RESULT}" + JSON.stringify({ importMs: t1 - t0, firstMs: t2 - t1, sinceStartMs: t2, status: response.statusCode }) + "\\n");
`;

interface ColdRun {
  importMs: number;
  firstMs: number;
  sinceStartMs: number;
  status: number;
}

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
function ensurePackage(): void {
  const zip = join(SERVERLESS, "token.zip");
  if (existsSync(zip) && statSync(zip).mtimeMs >= newestSource()) return;
  const result = spawnSync("npm", ["run", "package"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  if (result.status !== 0) throw new Error(`npm run package failed with exit code ${result.status}`);
}

/** NODE_OPTIONS of the deployed function (source maps), from the packaged template. */
function deployedNodeOptions(): string {
  const template = JSON.parse(
    readFileSync(join(SERVERLESS, "cloudformation-template-update-stack.json"), "utf8"),
  ) as {
    Resources: Record<string, { Properties?: { Environment?: { Variables?: Record<string, string> } } }>;
  };
  return template.Resources.TokenLambdaFunction?.Properties?.Environment?.Variables?.NODE_OPTIONS ?? "";
}

export default async function run(): Promise<Figure[]> {
  ensurePackage();
  const zipPath = join(SERVERLESS, "token.zip");
  // Unpacked as Lambda mounts it, the AWS SDK only from a stand-in for the runtime's own copy.
  const task = unpackTask(zipPath, { runtimeSdk: true });
  const dir = task.root;
  const fixture = await startBrokerFixture();
  try {
    const bundle = readZip(zipPath).find((e) => e.name === "functions/token.mjs");
    if (bundle === undefined) throw new Error(`${zipPath} has no functions/token.mjs`);
    const input = join(dir, "bench-input.json");
    const { getRemainingTimeInMillis: _, ...context } = lambdaContext("maskinporten-broker-dev-token");
    writeFileSync(
      input,
      JSON.stringify({
        bundle: pathToFileURL(join(dir, "functions/token.mjs")).href,
        event: tokenEvent({ scope: "skatteetaten:mva" }),
        context,
      }),
    );
    const nodeOptions = deployedNodeOptions();
    const coldStart = async (options: string): Promise<ColdRun> => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ["--input-type=module", "-e", COLD_SCRIPT],
        {
          cwd: dir,
          env: {
            PATH: process.env.PATH ?? "",
            ...fixture.env,
            NODE_OPTIONS: options,
            BENCH_INPUT: input,
            AWS_REGION: "eu-north-1",
          },
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      const line = stdout.split("\n").find((l) => l.startsWith(RESULT));
      if (line === undefined) throw new Error(`a cold start printed no result:\n${stdout.slice(-2000)}`);
      const result = JSON.parse(line.slice(RESULT.length)) as ColdRun;
      if (result.status !== 200)
        throw new Error(`the first /token of a cold start answered ${result.status}`);
      return result;
    };
    const runs: ColdRun[] = [];
    const withoutMaps: ColdRun[] = [];
    for (let i = 0; i < RUNS; i++) {
      runs.push(await coldStart(nodeOptions));
      if (nodeOptions !== "") withoutMaps.push(await coldStart(""));
    }
    const kib = (bytes: number) => bytes / 1024;
    const flags = nodeOptions === "" ? "no NODE_OPTIONS" : `NODE_OPTIONS=${nodeOptions} as deployed`;
    return [
      {
        scenario: SCENARIO,
        metric: "bundle (functions/token.mjs, unpacked)",
        value: kib(bundle.size),
        unit: "KiB",
        budget: { op: "<", limit: 300 },
        note: `code only; the source map is ${kib(statSync(join(dir, "functions/token.mjs.map")).size).toFixed(1)} KiB more`,
      },
      {
        scenario: SCENARIO,
        metric: "token.zip (code + map + policy)",
        value: kib(statSync(zipPath).size),
        unit: "KiB",
      },
      {
        scenario: SCENARIO,
        metric: "import of the bundle (median)",
        value: median(runs.map((r) => r.importMs)),
        unit: "ms",
        budget: { op: "<", limit: 150 },
        note: `${RUNS} fresh Node processes, ${flags}`,
      },
      ...(withoutMaps.length === 0
        ? []
        : [
            {
              scenario: SCENARIO,
              metric: "import without NODE_OPTIONS (median)",
              value: median(withoutMaps.map((r) => r.importMs)),
              unit: "ms",
              note: "the same bundle in the same run, interleaved: what the source maps cost at import",
            },
          ]),
      {
        scenario: SCENARIO,
        metric: "first /token after import (median)",
        value: median(runs.map((r) => r.firstMs)),
        unit: "ms",
        note: "config + policy + file key + one RS256 grant + emulator round trip (KMS adds GetPublicKey and Sign)",
      },
      {
        scenario: SCENARIO,
        metric: "process start to first answer (median)",
        value: median(runs.map((r) => r.sinceStartMs)),
        unit: "ms",
      },
    ];
  } finally {
    await fixture.close();
    task.remove();
  }
}
