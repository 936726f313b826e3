// Runs in a fresh `node` (no tsx): CPU per cache hit of the packaged token handler next to a bare middy handler, on
// the same prebuilt events, in the same process, in alternating rounds. Writes its result to BENCH_OUTPUT.
// Input (the JSON file named by BENCH_INPUT): { token, bare, events, context, rounds, perRound, warmUp }.
import { readFileSync, writeFileSync } from "node:fs";

const input = JSON.parse(readFileSync(process.env.BENCH_INPUT, "utf8"));
const context = { ...input.context, getRemainingTimeInMillis: () => 28000 };
const token = (await import(input.token)).handler;
const bare = (await import(input.bare)).handler;
const events = input.events;

async function expectOutcome(handler, outcome) {
  for (const event of events) {
    const response = await handler(event, context);
    const cache = response.headers?.["X-Token-Cache"];
    if (response.statusCode !== 200 || (outcome !== undefined && cache !== outcome))
      throw new Error(`expected 200 ${outcome ?? ""}, got ${response.statusCode} ${cache}: ${response.body}`);
  }
}

/** CPU µs (user + system, this process) per call over `count` sequential calls cycling through the events. */
async function cpuPerCall(handler, count) {
  const before = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i++) await handler(events[i % events.length], context);
  const used = process.cpuUsage(before);
  return { cpuUs: (used.user + used.system) / count, wallUs: ((performance.now() - started) * 1000) / count };
}

await expectOutcome(token, undefined); // the misses that fill the cache
await expectOutcome(token, "hit");
await expectOutcome(bare, undefined);
await cpuPerCall(token, input.warmUp);
await cpuPerCall(bare, input.warmUp);
const rounds = { token: [], bare: [] };
for (let r = 0; r < input.rounds; r++) {
  rounds.token.push(await cpuPerCall(token, input.perRound));
  rounds.bare.push(await cpuPerCall(bare, input.perRound));
}
await expectOutcome(token, "hit");
const median = (values) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)];
const result = {
  tokenCpuUs: median(rounds.token.map((r) => r.cpuUs)),
  bareCpuUs: median(rounds.bare.map((r) => r.cpuUs)),
  tokenWallUs: median(rounds.token.map((r) => r.wallUs)),
  bareWallUs: median(rounds.bare.map((r) => r.wallUs)),
};
writeFileSync(process.env.BENCH_OUTPUT, JSON.stringify(result));
