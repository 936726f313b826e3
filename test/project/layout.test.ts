// The shape of the house: dev tooling stays out of the Lambda path, the client out of the server, lib/ no CLI, small files.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => join(dir, name));
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function specifiers(path: string): string[] {
  const source = readFileSync(join(ROOT, path), "utf8");
  const found = source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g);
  return [...found].map((match) => match[1] ?? "");
}

describe("the Lambda path", () => {
  const lambdaPath = [...sources("functions"), ...sources("lib")];

  it("imports nothing from dev/ in functions/ or lib/ sources", () => {
    expect(lambdaPath.length).toBeGreaterThan(20);
    const intoDev = lambdaPath.flatMap((path) =>
      specifiers(path)
        .filter((spec) => spec.startsWith("."))
        .filter((spec) => relative(ROOT, resolve(ROOT, dirname(path), spec)).startsWith("dev/"))
        .map((spec) => `${path} imports ${spec}`),
    );
    expect(intoDev).toEqual([]);
  });

  it("bundles the handlers without any dev/ module, and loads none of its own modules with import() nor node:fs/promises", async () => {
    const result = await build({
      entryPoints: sources("functions").map((path) => join(ROOT, path)),
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node24",
      external: ["@aws-sdk/*"],
      outdir: join(ROOT, ".layout-check"),
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain("functions/token.ts");
    expect(inputs.some((input) => input.startsWith("lib/broker/"))).toBe(true);
    expect(inputs.filter((input) => input.startsWith("dev/"))).toEqual([]);
    // A module of our own loaded with import() makes esbuild wrap it, and every module it reaches, in a lazy
    // initializer: V8 then parses all that code twice during the cold start (about 2 ms on the token function).
    // Only external modules (the runtime's AWS SDK) are imported on demand.
    const dynamic = Object.entries(result.metafile.inputs).flatMap(([input, { imports }]) =>
      imports
        .filter((imported) => imported.kind === "dynamic-import" && imported.external !== true)
        .map((imported) => `${input} imports ${imported.path} with import()`),
    );
    expect(inputs.some((input) => input.startsWith("lib/signer/"))).toBe(true);
    expect(dynamic).toEqual([]);
    // Files are read once, at cold start, with readFileSync: node:fs/promises is one more built-in module to
    // load before the first token (the floor loads none the broker does not), and waits on the thread pool.
    const promisesFs = Object.entries(result.metafile.inputs).flatMap(([input, { imports }]) =>
      imports
        .filter((imported) => imported.path === "node:fs/promises" || imported.path === "fs/promises")
        .map(() => input),
    );
    expect(promisesFs).toEqual([]);
  });
});

/** What the published package may hold: the caller client and the contract it shares with the broker. */
const PUBLISHED_ROOM = /^lib\/(client|contract)\//;

/** Our own modules (not node_modules) that bundling `entries` reaches, and those outside the published rooms. */
async function importGraph(...entries: string[]): Promise<{ ours: string[]; server: string[] }> {
  const result = await build({
    entryPoints: entries.map((entry) => join(ROOT, entry)),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    packages: "external",
    outdir: join(ROOT, ".layout-check"),
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const ours = Object.keys(result.metafile.inputs).filter((input) => !input.startsWith("node_modules/"));
  return { ours, server: ours.filter((input) => !PUBLISHED_ROOM.test(input)) };
}

describe("the caller client", () => {
  it("reaches only lib/client and lib/contract: no transport, retry loop, signer, broker or config", async () => {
    const { ours, server } = await importGraph("lib/client/index.ts");
    expect(ours).toContain("lib/client/token-client.ts");
    expect(ours).toContain("lib/contract/cache-key.ts");
    expect(server).toEqual([]);
  });

  it("would be caught importing server code: the same check lists every server room the broker reaches", async () => {
    const { server } = await importGraph("lib/broker/index.ts", "lib/keys/index.ts");
    const rooms = new Set(server.map((input) => input.split("/")[1]));
    for (const room of [
      "upstream",
      "maskinporten",
      "altinn",
      "keys",
      "signer",
      "broker",
      "config",
      "request",
    ]) {
      expect(rooms, room).toContain(room);
    }
    expect(server).toContain("lib/upstream/transport.ts");
    expect(server).toContain("lib/upstream/retry.ts");
  });
});

/** Where a file reads the command line or picks the exit code: what belongs to scripts/, never to lib/. */
function commandLineUses(path: string): string[] {
  const source = readFileSync(join(ROOT, path), "utf8");
  const uses = source.matchAll(
    /\bprocess\s*\.\s*(argv|exitCode|exit)\b|\{[^}]*\b(argv|exit|exitCode)\b[^}]*\}\s*=\s*process\b/g,
  );
  return [...uses].map((match) => `${path} uses process.${match[1] ?? match[2]}`);
}

/** Files over this many lines are split by what they do. */
const MAX_LIB_LINES = 300;

describe("lib/", () => {
  it("reads no process.argv and sets no exit code: the command line lives with the commands in scripts/", () => {
    // The check finds what it looks for: every command in scripts/ sets its exit code.
    expect(sources("scripts").flatMap(commandLineUses)).toContain("scripts/keys.ts uses process.exitCode");
    expect(sources("lib").flatMap(commandLineUses)).toEqual([]);
  });

  it(`has no file over ${MAX_LIB_LINES} lines`, () => {
    const lines = (path: string) => readFileSync(join(ROOT, path), "utf8").trimEnd().split("\n").length;
    expect(sources("lib").filter((path) => lines(path) > MAX_LIB_LINES)).toEqual([]);
  });
});
