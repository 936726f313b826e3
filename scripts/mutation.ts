// `npm run test:mutation [group ...] [--option=value]`: Stryker on each file group in turn, on its own tests,
// then every file's score; exits 1 when a file scores under the bar.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync } from "node:fs";

/** The lowest mutation score (killed and timed out over all valid mutants) a file may have. */
const BAR = 85;

interface Group {
  mutate: string[];
  tests: string[];
}

/** Each group is mutated on its own and scored only by the tests that are about it. */
const GROUPS: Readonly<Record<string, Group>> = {
  request: { mutate: ["lib/request/**/*.ts", "!lib/request/index.ts"], tests: ["test/request/**/*.test.ts"] },
  policy: { mutate: ["lib/policy/**/*.ts", "!lib/policy/index.ts"], tests: ["test/policy/**/*.test.ts"] },
  cache: { mutate: ["lib/cache/**/*.ts", "!lib/cache/index.ts"], tests: ["test/cache/**/*.test.ts"] },
  budget: { mutate: ["lib/broker/grant-budget.ts"], tests: ["test/broker/grant-budget.test.ts"] },
  grant: {
    mutate: ["lib/grant/**/*.ts"],
    tests: ["test/grant/**/*.test.ts", "test/request/resource.test.ts"],
  },
  audit: { mutate: ["lib/audit/**/*.ts", "!lib/audit/index.ts"], tests: ["test/audit/**/*.test.ts"] },
  response: {
    mutate: ["lib/upstream/oauth-error.ts"],
    tests: ["test/upstream/**/*.test.ts", "test/maskinporten/**/*.test.ts"],
  },
  // The cache key and the token answer parser; the backoff schedule and the problem table are not scored yet.
  contract: {
    mutate: ["lib/contract/cache-key.ts", "lib/contract/token-answer.ts"],
    tests: ["test/contract/**/*.test.ts"],
  },
};

/** The part of Stryker's JSON report (mutation-testing-report-schema) the scores are made of. */
interface Report {
  files: Record<string, { mutants: { status: string }[] }>;
}

const REPORTS = "reports/mutation";
const DETECTED = new Set(["Killed", "Timeout"]);
const UNDETECTED = new Set(["Survived", "NoCoverage"]);

/**
 * The group's tests reach Stryker as vitest's `include` (vitest.mutation.config.ts), not as `--testFiles`: with
 * a test filter, Stryker 10.1 activates a mutant in module-level code (a schema built at load) only after the
 * module has loaded, and counts it as survived (stryker-js issue 6144).
 */
function run(name: string, group: Group, options: readonly string[]): string {
  const result = spawnSync("npx", ["stryker", "run", "--mutate", group.mutate.join(","), ...options], {
    stdio: "inherit",
    env: { ...process.env, MUTATION_TESTS: group.tests.join(",") },
  });
  if (result.status !== 0) throw new Error(`stryker on ${name} exited with ${result.status}`);
  mkdirSync(REPORTS, { recursive: true });
  const report = `${REPORTS}/${name}.json`;
  renameSync(`${REPORTS}/mutation.json`, report);
  return report;
}

/** Per file: detected / (detected + undetected), as Stryker scores it (compile errors and ignored ones aside). */
function scores(reportPath: string): { file: string; detected: number; undetected: number; score: number }[] {
  const report = JSON.parse(readFileSync(reportPath, "utf8")) as Report;
  return Object.entries(report.files).map(([file, { mutants }]) => {
    const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
    const undetected = mutants.filter((m) => UNDETECTED.has(m.status)).length;
    return { file, detected, undetected, score: (100 * detected) / Math.max(1, detected + undetected) };
  });
}

// Group names, and Stryker options given as `--name=value` (e.g. `--concurrency=2`).
const options = process.argv.slice(2).filter((arg) => arg.startsWith("--"));
const asked = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
const unknown = asked.filter((name) => !(name in GROUPS));
if (unknown.length > 0) {
  console.error(`unknown group(s) ${unknown.join(", ")}; groups: ${Object.keys(GROUPS).join(", ")}`);
  process.exit(2);
}
const rows = (asked.length === 0 ? Object.keys(GROUPS) : asked).flatMap((name) =>
  scores(run(name, GROUPS[name] as Group, options)),
);
console.log(`\nMutation score per file (bar ${BAR}%):`);
for (const row of rows) {
  const mark = row.score >= BAR ? "  " : "✗ ";
  console.log(
    `${mark}${row.file.padEnd(36)} ${row.score.toFixed(1).padStart(5)}%  ${row.detected} detected, ${row.undetected} not`,
  );
}
if (rows.some((row) => row.score < BAR)) process.exit(1);
