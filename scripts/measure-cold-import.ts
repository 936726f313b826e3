// Measures the cold import time of the token handler bundled two ways: AWS SDK v3 inside the bundle
// (what serverless.yml does) or left external for the runtime's copy. Decides README "Deployment".
// Usage: npx tsx scripts/measure-cold-import.ts [runs]
import { execFileSync } from "node:child_process";
import { mkdtempSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");
const runs = Number(process.argv[2] ?? 21);

// The same options as custom.esbuild in serverless.yml; only `external` differs.
async function bundle(external: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "mp-broker-cold-"));
  // Stands in for /var/runtime/node_modules, where nodejs24.x keeps its AWS SDK v3.
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  const outfile = join(dir, "token.mjs");
  await build({
    entryPoints: [join(root, "functions/token.ts")],
    outfile,
    bundle: true,
    minify: true,
    treeShaking: true,
    sourcemap: true,
    sourcesContent: false,
    format: "esm",
    platform: "node",
    target: "node24",
    mainFields: ["module", "main"],
    external,
    banner: {
      js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
    },
    logLevel: "error",
  });
  return outfile;
}

function importMs(file: string, flags: string[]): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t);`;
  const out = execFileSync(process.execPath, [...flags, "--input-type=module", "-e", script], {
    env: { ...process.env, AWS_REGION: "eu-north-1" },
  });
  return Number(out.toString().trim());
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const bundled = await bundle([]);
const external = await bundle(["@aws-sdk/*", "@smithy/*"]);
const variants = [
  { name: "SDK bundled", file: bundled, flags: [] },
  { name: "SDK external (runtime)", file: external, flags: [] },
  { name: "SDK bundled, source maps", file: bundled, flags: ["--enable-source-maps"] },
];
const samples = new Map(variants.map((v) => [v.name, [] as number[]]));
for (let i = 0; i < runs; i++) {
  for (const v of i % 2 === 0 ? variants : [...variants].reverse())
    samples.get(v.name)?.push(importMs(v.file, v.flags));
}
console.log(`Cold import of functions/token.ts, ${runs} runs each, Node ${process.version} ${process.arch}:`);
for (const v of variants) {
  const xs = samples.get(v.name) ?? [];
  const size = (statSync(v.file).size / 1024).toFixed(1);
  console.log(
    `  ${v.name.padEnd(26)} bundle ${size.padStart(7)} KiB  median ${median(xs).toFixed(1)} ms  min ${Math.min(...xs).toFixed(1)} ms`,
  );
}
