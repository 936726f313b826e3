// Prints the size of every Lambda artifact `sls package` wrote to .serverless/ (zip and unpacked code).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { readZip } from "./zip.ts";

const dir = process.argv[2] ?? ".serverless";
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

const zips = readdirSync(dir).filter((name) => name.endsWith(".zip"));
if (zips.length === 0) throw new Error(`no .zip artifacts in ${dir}: run sls package first`);
console.log("Bundle size (zip / unpacked code / unpacked source map):");
for (const name of zips.sort()) {
  const entries = readZip(join(dir, name));
  const code = entries.filter((e) => !e.name.endsWith(".map")).reduce((sum, e) => sum + e.size, 0);
  const maps = entries.filter((e) => e.name.endsWith(".map")).reduce((sum, e) => sum + e.size, 0);
  console.log(
    `  ${name.padEnd(12)} ${kib(statSync(join(dir, name)).size).padStart(11)} / ${kib(code)} / ${kib(maps)}`,
  );
}
