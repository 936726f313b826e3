// Cold start of the packaged token function next to its floor: size of the bundle in the zip `npm run package`
// wrote, and, in fresh Node processes, the time to import it and to answer the first /token (config, policy, key,
// one grant, emulator), against a bare middy handler that signs one grant with node:crypto and posts it with
// node:http (test/bench/floor/cold-floor.ts), bundled the same way. Both sides interleaved in one run.
import { statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { lambdaContext } from "../../../dev/api-gateway-event.ts";
import { readZip } from "../../../scripts/zip.ts";
import { unpackTask } from "../../deploy/lambda-runtime.ts";
import { startBrokerFixture, tokenEvent } from "../../support/broker-fixture.ts";
import { type Figure, median } from "../figures.ts";
import { buildFloors, deployedEnvironment, ensurePackage, runProbe, SERVERLESS } from "../packaged.ts";

const RUNS = 15;
const SCENARIO = "cold start, packaged token function";
/** Goals: cold start to the first token within 1.3x the floor; the token bundle within 120 KiB. */
const COLD_RATIO_GOAL = 1.3;
const BUNDLE_GOAL_KIB = 120;

interface ColdRun {
  importMs: number;
  firstMs: number;
  /** Import + build + the first token: from before the import to the first answer. */
  coldMs: number;
  sinceStartMs: number;
  /** CPU (user + system, all threads) from before the import to the first answer. */
  coldCpuMs: number;
  importCpuMs: number;
  status: number;
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
    const floors = await buildFloors(join(dir, "bench-floor"));
    const { getRemainingTimeInMillis: _, ...context } = lambdaContext("maskinporten-broker-dev-token");
    const event = tokenEvent({ scope: "skatteetaten:mva" });
    const { NODE_OPTIONS: nodeOptions = "", ...deployed } = deployedEnvironment();
    // The deployed variables that are not the placeholders the fixture replaces (POWERTOOLS_*, ...).
    const env = {
      ...Object.fromEntries(Object.entries(deployed).filter(([k]) => k.startsWith("POWERTOOLS_"))),
      ...fixture.env,
      AWS_REGION: "eu-north-1",
      AWS_LAMBDA_FUNCTION_NAME: "maskinporten-broker-dev-token",
    };
    const coldStart = async (url: string, options: string): Promise<ColdRun> => {
      const result = await runProbe<ColdRun>({
        probe: "cold-start",
        input: { bundle: url, event, context },
        cwd: dir,
        env,
        nodeOptions: options,
        stdout: "pipe",
      });
      if (result.status !== 200)
        throw new Error(`the first /token of a cold start answered ${result.status}`);
      return result;
    };
    const tokenUrl = pathToFileURL(join(dir, "functions/token.mjs")).href;
    const runs: ColdRun[] = [];
    const withoutMaps: ColdRun[] = [];
    const floor: ColdRun[] = [];
    for (let i = 0; i < RUNS; i++) {
      floor.push(await coldStart(floors.coldFloor, ""));
      runs.push(await coldStart(tokenUrl, nodeOptions));
      if (nodeOptions !== "") withoutMaps.push(await coldStart(tokenUrl, ""));
    }
    const kib = (bytes: number) => bytes / 1024;
    const flags = nodeOptions === "" ? "no NODE_OPTIONS" : `NODE_OPTIONS=${nodeOptions} as deployed`;
    const cold = median(runs.map((r) => r.coldMs));
    const floorCold = median(floor.map((r) => r.coldMs));
    const coldCpu = median(runs.map((r) => r.coldCpuMs));
    const floorCpu = median(floor.map((r) => r.coldCpuMs));
    return [
      {
        scenario: SCENARIO,
        metric: "bundle (functions/token.mjs, unpacked)",
        value: kib(bundle.size),
        unit: "KiB",
        budget: { op: "<=", limit: BUNDLE_GOAL_KIB },
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
      {
        scenario: SCENARIO,
        metric: "cold start to first token: import + build + one miss (median)",
        value: cold,
        unit: "ms",
        note: `from before the import to the first answer, ${flags}; Node's own start is the same on both sides and left out`,
      },
      {
        scenario: "cold start floor: bare middy, node:crypto grant, node:http post",
        metric: "cold start to first token (median)",
        value: floorCold,
        unit: "ms",
        note: `${RUNS} fresh Node processes interleaved with the token function's, bundled the same way, no NODE_OPTIONS; same key file, same emulator`,
      },
      {
        scenario: SCENARIO,
        metric: "CPU to first token: import + build + one miss (median)",
        value: coldCpu,
        unit: "ms",
        note: "process.cpuUsage (user + system, every thread of the process) over the same span",
      },
      {
        scenario: "cold start floor: bare middy, node:crypto grant, node:http post",
        metric: "CPU to first token (median)",
        value: floorCpu,
        unit: "ms",
      },
      {
        scenario: "headline",
        metric: "cold start to first token vs floor",
        value: cold / floorCold,
        unit: "x",
        budget: { op: "<=", limit: COLD_RATIO_GOAL },
        note: "the goal's figure: time by the clock, medians of the interleaved runs",
      },
      {
        scenario: "headline",
        metric: "cold start to first token vs floor, CPU",
        value: coldCpu / floorCpu,
        unit: "x",
        note: "the same runs by CPU (every thread): the broker keeps V8's and the collector's helper threads busier",
      },
    ];
  } finally {
    await fixture.close();
    task.remove();
  }
}
