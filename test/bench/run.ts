// `npm run bench [-- scenario...] [--out=path]`: every scenario in its own child process, one table on stdout and
// the figures as JSON in an untracked file; exits 1 when a figure misses its budget (or a scenario fails).
// Loopback only, bounded loops only.
import { fork } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { type CheckedFigure, check, type Figure, formatTable, round } from "./figures.ts";

const SCENARIOS = [
  "handler",
  "cache-hit-cpu",
  "eviction",
  "gateway",
  "coalescing",
  "cold-start",
  "memory",
] as const;
/** A scenario that has not reported by then has hung: the whole bench must stay under 5 minutes. */
const SCENARIO_TIMEOUT_MS = 90_000;

interface ScenarioOutcome {
  name: string;
  figures: Figure[];
  error?: string;
  seconds: number;
}

function runScenario(name: string): Promise<ScenarioOutcome> {
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  return new Promise((resolve) => {
    // stdout is the audit log of every request: discarded, as CloudWatch would take it off the process.
    const child = fork(join(import.meta.dirname, "child.ts"), [name], {
      execArgv: ["--import", "tsx", "--expose-gc"],
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    let stderr = "";
    let figures: Figure[] | undefined;
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on("message", (message: { figures: Figure[] }) => {
      figures = message.figures;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), SCENARIO_TIMEOUT_MS);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (figures !== undefined && code === 0) return resolve({ name, figures, seconds: seconds() });
      const why = signal === null ? `exit code ${code}` : `killed by ${signal}`;
      resolve({ name, figures: figures ?? [], error: `${why}\n${stderr.trim()}`, seconds: seconds() });
    });
  });
}

const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith("--out="));
// Ignored by git: a run never leaves the work tree changed. A partial run does not replace the full run's file.
const out =
  args.find((a) => a.startsWith("--out="))?.slice("--out=".length) ??
  join(import.meta.dirname, only.length === 0 ? "results.json" : "results.partial.json");
const selected = only.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => only.includes(s));
const started = new Date();
// The machine is shared: every ratio moves with its load, so a run says what the load was around it.
const loadAtStart = round(loadavg()[0] ?? 0);
const outcomes: ScenarioOutcome[] = [];
for (const name of selected) {
  process.stderr.write(`bench: ${name}...`);
  const outcome = await runScenario(name);
  process.stderr.write(outcome.error === undefined ? ` ${outcome.seconds} s\n` : " FAILED\n");
  outcomes.push(outcome);
}
const figures: CheckedFigure[] = outcomes.flatMap((o) => o.figures.map(check));
const failed = outcomes.filter((o) => o.error !== undefined);
const missed = figures.filter((f) => f.pass === false);
const loadAtEnd = round(loadavg()[0] ?? 0);

console.log(
  `maskinporten-broker bench, ${started.toISOString()}, Node ${process.version} ${process.arch}, ${cpus().length} CPU(s), load average ${loadAtStart} at start, ${loadAtEnd} at end`,
);
console.log(formatTable(figures));
for (const f of figures.filter((f) => f.note !== undefined))
  console.log(`  ${f.scenario} / ${f.metric}: ${f.note}`);
const goals = figures.filter(
  (f) => f.budget !== undefined && (f.scenario === "headline" || f.metric.startsWith("bundle")),
);
if (goals.length > 0) console.log("\nGoals:");
for (const f of goals) {
  const verdict = f.pass ? "met" : "MISSED";
  console.log(
    `  ${f.metric}: ${round(f.value)} ${f.unit} (goal ${f.budget?.op} ${f.budget?.limit} ${f.unit}) ${verdict}`,
  );
}
for (const o of failed) console.log(`\nscenario ${o.name} failed: ${o.error}`);
console.log(
  `\n${figures.length} figures, ${figures.filter((f) => f.pass === true).length} budgets met, ${missed.length} missed, ${failed.length} scenario(s) failed`,
);

writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: started.toISOString(),
      node: process.version,
      arch: process.arch,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      loadAverage: { start: loadAtStart, end: loadAtEnd },
      scenarios: outcomes.map((o) => ({ name: o.name, seconds: o.seconds, error: o.error ?? null })),
      figures,
    },
    null,
    2,
  )}\n`,
);
process.exit(missed.length > 0 || failed.length > 0 ? 1 : 0);
