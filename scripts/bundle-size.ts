// Prints the size of every Lambda artifact `sls package` wrote (zip, unpacked code, unpacked source map).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { readZip } from "./zip.ts";

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

export function printBundleSize(dir: string): void {
  const zips = readdirSync(dir).filter((name) => name.endsWith(".zip"));
  if (zips.length === 0) throw new Error(`no .zip artifacts in ${dir}: run sls package first`);
  console.log("Bundle size (zip / unpacked code / unpacked source map):");
  for (const name of zips.sort()) {
    const entries = readZip(join(dir, name));
    const size = (maps: boolean) =>
      entries.filter((e) => e.name.endsWith(".map") === maps).reduce((sum, e) => sum + e.size, 0);
    const zip = kib(statSync(join(dir, name)).size).padStart(11);
    console.log(`  ${name.padEnd(12)} ${zip} / ${kib(size(false))} / ${kib(size(true))}`);
  }
}
