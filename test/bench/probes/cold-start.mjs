// Runs in a fresh `node` (no tsx, no loader): what Lambda does on a cold start, timed from inside the process.
// Imports a bundle, answers one event, writes its result to BENCH_OUTPUT. Input: the JSON file named by BENCH_INPUT.
import { readFileSync, writeFileSync } from "node:fs";

const input = JSON.parse(readFileSync(process.env.BENCH_INPUT, "utf8"));
const t0 = performance.now();
const { handler } = await import(input.bundle);
const t1 = performance.now();
const context = { ...input.context, getRemainingTimeInMillis: () => 28000 };
const response = await handler(input.event, context);
const t2 = performance.now();
const result = {
  importMs: t1 - t0,
  firstMs: t2 - t1,
  coldMs: t2 - t0,
  sinceStartMs: t2,
  status: response.statusCode,
};
writeFileSync(process.env.BENCH_OUTPUT, JSON.stringify(result));
