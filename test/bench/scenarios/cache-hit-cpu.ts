// CPU per cache hit of the packaged token function next to a bare middy handler (test/bench/floor/bare-middy.ts,
// bundled the same way) on the same prebuilt events: four request bodies, one caller, all cached. Each fresh
// process measures both sides in alternating rounds; the figures are medians over the processes.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { lambdaContext } from "../../../dev/api-gateway-event.ts";
import { unpackTask } from "../../deploy/lambda-runtime.ts";
import { startBrokerFixture, tokenEvent } from "../../support/broker-fixture.ts";
import { type Figure, median } from "../figures.ts";
import { buildFloors, deployedEnvironment, ensurePackage, runProbe, SERVERLESS } from "../packaged.ts";

const PROCESSES = 5;
const ROUNDS = 15;
const PER_ROUND = 1_000;
/** Goal: a cache hit costs at most 10x the CPU of a bare middy handler. */
const HIT_RATIO_GOAL = 10;
const BODIES = [
  { scope: "skatteetaten:mva" },
  { scope: "skatteetaten:inntektsmottak" },
  { scope: "nav:aareg/v1/arbeidsforhold" },
  { scope: "skatteetaten:a-meldinger/les", min_ttl: 60 },
];

interface HitRun {
  tokenCpuUs: number;
  bareCpuUs: number;
  tokenWallUs: number;
  bareWallUs: number;
}

export default async function run(): Promise<Figure[]> {
  ensurePackage();
  const task = unpackTask(join(SERVERLESS, "token.zip"), { runtimeSdk: true });
  const fixture = await startBrokerFixture();
  try {
    const floors = await buildFloors(join(task.root, "bench-floor"));
    const { getRemainingTimeInMillis: _, ...context } = lambdaContext("maskinporten-broker-dev-token");
    const { NODE_OPTIONS: nodeOptions = "", ...deployed } = deployedEnvironment();
    const env = {
      ...Object.fromEntries(Object.entries(deployed).filter(([k]) => k.startsWith("POWERTOOLS_"))),
      ...fixture.env,
      AWS_REGION: "eu-north-1",
      AWS_LAMBDA_FUNCTION_NAME: "maskinporten-broker-dev-token",
    };
    const input = {
      token: pathToFileURL(join(task.root, "functions/token.mjs")).href,
      bare: floors.bareMiddy,
      events: BODIES.map((body) => tokenEvent(body)),
      context,
      rounds: ROUNDS,
      perRound: PER_ROUND,
      warmUp: 5_000,
    };
    const runs: HitRun[] = [];
    for (let i = 0; i < PROCESSES; i++)
      runs.push(await runProbe<HitRun>({ probe: "cache-hit", input, cwd: task.root, env, nodeOptions }));
    const scenario = "cache hit, packaged token function";
    const floor = "cache hit floor: bare middy handler";
    const setup = `${PROCESSES} fresh processes x ${ROUNDS} rounds of ${PER_ROUND} sequential hits over ${BODIES.length} bodies, alternating with the floor; process.cpuUsage (user + system); audit log to /dev/null`;
    return [
      {
        scenario,
        metric: "CPU per hit (median)",
        value: median(runs.map((r) => r.tokenCpuUs)),
        unit: "µs",
        note: setup,
      },
      {
        scenario,
        metric: "wall time per hit (median)",
        value: median(runs.map((r) => r.tokenWallUs)),
        unit: "µs",
      },
      {
        scenario: floor,
        metric: "CPU per call (median)",
        value: median(runs.map((r) => r.bareCpuUs)),
        unit: "µs",
        note: "middy() with its defaults and no middleware, answering a fixed 1 KB token body; bundled the same way",
      },
      {
        scenario: floor,
        metric: "wall time per call (median)",
        value: median(runs.map((r) => r.bareWallUs)),
        unit: "µs",
      },
      {
        scenario: "headline",
        metric: "cache hit CPU vs bare middy",
        value: median(runs.map((r) => r.tokenCpuUs / r.bareCpuUs)),
        unit: "x",
        budget: { op: "<=", limit: HIT_RATIO_GOAL },
        note: "median over the processes of each process's own ratio",
      },
    ];
  } finally {
    await fixture.close();
    task.remove();
  }
}
