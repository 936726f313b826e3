// Runs in a fresh `node` (no tsx, no loader): what Lambda does on a cold start, timed from inside the process.
// Imports a bundle, answers one event, writes its result to BENCH_OUTPUT. Input: the JSON file named by BENCH_INPUT.
import { readFileSync, writeFileSync } from "node:fs";

const input = JSON.parse(readFileSync(process.env.BENCH_INPUT, "utf8"));
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const { handler } = await import(input.bundle);
const t1 = performance.now();
const cpu1 = process.cpuUsage(cpu0);
const context = { ...input.context, getRemainingTimeInMillis: () => 28000 };
const response = await handler(input.event, context);
const t2 = performance.now();
const cpu2 = process.cpuUsage(cpu0);
const ms = (cpu) => (cpu.user + cpu.system) / 1000;
const result = {
  importMs: t1 - t0,
  firstMs: t2 - t1,
  coldMs: t2 - t0,
  sinceStartMs: t2,
  // CPU of this process (all its threads) from before the import to the first answer: what waiting for a core on
  // a busy machine does not inflate.
  importCpuMs: ms(cpu1),
  coldCpuMs: ms(cpu2),
  status: response.statusCode,
};
writeFileSync(process.env.BENCH_OUTPUT, JSON.stringify(result));
