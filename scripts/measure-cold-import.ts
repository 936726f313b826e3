// Measures the cold start of the token handler bundled two ways: AWS SDK v3 left external for the
// runtime's copy (what serverless.yml does) or inside the bundle. Decides docs/deployment.md "Bundle and cold start".
// Cold start = import the handler + load the KMS signer, which the first /token request does on demand.
// Usage: npx tsx scripts/measure-cold-import.ts [runs]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
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
    stdin: {
      contents: [
        'export { handler } from "./functions/token.ts";',
        'export const loadKmsSigner = () => import("./lib/signer/kms.ts");',
      ].join("\n"),
      resolveDir: root,
      loader: "ts",
    },
    outfile,
    bundle: true,
    minify: true,
    treeShaking: true,
    sourcemap: true,
    sourcesContent: false,
    format: "esm",
    platform: "node",
    target: "node24",
    supported: { "regexp-unicode-property-escapes": true },
    mainFields: ["module", "main"],
    external,
    logLevel: "error",
  });
  return outfile;
}

interface Sample {
  wallMs: number;
  /** user + system CPU: steadier than wall time on a busy machine. */
  cpuMs: number;
}

function importMs(file: string, flags: string[]): Sample {
  const script = `const t = performance.now(); const c = process.cpuUsage(); const m = await import(${JSON.stringify(pathToFileURL(file).href)}); await m.loadKmsSigner(); const u = process.cpuUsage(c); console.log(JSON.stringify({ wallMs: performance.now() - t, cpuMs: (u.user + u.system) / 1000 }));`;
  const out = execFileSync(process.execPath, [...flags, "--input-type=module", "-e", script], {
    env: { ...process.env, AWS_REGION: "eu-north-1" },
  });
  return JSON.parse(out.toString()) as Sample;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const external = await bundle(["@aws-sdk/*"]);
const bundled = await bundle([]);
const variants = [
  { name: "SDK external (runtime)", file: external, flags: [] },
  { name: "SDK bundled", file: bundled, flags: [] },
  { name: "SDK external, source maps", file: external, flags: ["--enable-source-maps"] },
];
const samples = new Map(variants.map((v) => [v.name, [] as Sample[]]));
for (let i = 0; i < runs; i++) {
  for (const v of i % 2 === 0 ? variants : [...variants].reverse())
    samples.get(v.name)?.push(importMs(v.file, v.flags));
}
console.log(
  `Cold start of functions/token.ts (import + KMS signer), ${runs} runs each, Node ${process.version} ${process.arch}:`,
);
for (const v of variants) {
  const xs = samples.get(v.name) ?? [];
  const wall = xs.map((x) => x.wallMs);
  const cpu = xs.map((x) => x.cpuMs);
  const size = (statSync(v.file).size / 1024).toFixed(1);
  console.log(
    `  ${v.name.padEnd(26)} bundle ${size.padStart(7)} KiB  wall median ${median(wall).toFixed(1)} ms (min ${Math.min(...wall).toFixed(1)})  CPU median ${median(cpu).toFixed(1)} ms (min ${Math.min(...cpu).toFixed(1)})`,
  );
}
for (const v of [external, bundled]) rmSync(join(v, ".."), { recursive: true, force: true });
