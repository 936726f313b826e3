// The package entry an internal service installs: built JavaScript with types, importable by plain Node.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");

beforeAll(async () => {
  // What `npm ci` / `npm install <git url>` runs (the `prepare` script): rebuild so the test never sees a stale dist/.
  await run("npm", ["run", "--silent", "prepare"], { cwd: ROOT });
}, 120_000);

describe('import from "maskinporten-broker"', () => {
  it("loads in plain Node (no TypeScript loader) and exports the client and its error class", async () => {
    const script =
      'import * as entry from "maskinporten-broker"; console.log(JSON.stringify(Object.keys(entry).sort()));';
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual(["DEFAULT_MIN_TTL_SECONDS", "TokenBrokerError", "createTokenClient"]);
  });

  it("type-checks a consumer against the published declarations", async () => {
    const dir = await mkdtemp(join(ROOT, ".consumer-"));
    try {
      const consumer = join(dir, "consumer.ts");
      await writeFile(
        consumer,
        [
          'import { createTokenClient, TokenBrokerError } from "maskinporten-broker";',
          'const broker = createTokenClient({ endpoint: "https://broker.example", region: "eu-north-1" });',
          'export const token: Promise<string> = broker.getToken({ scope: "skatteetaten:mva" }).then((t) => t.access_token);',
          "export const code = (e: unknown) => (e instanceof TokenBrokerError ? e.code : undefined);",
          "// @ts-expect-error scope is required",
          "broker.getToken({});",
        ].join("\n"),
      );
      const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
      const args = [
        "--noEmit",
        "--strict",
        "--module",
        "nodenext",
        "--target",
        "es2024",
        "--types",
        "node",
        consumer,
      ];
      await expect(run(process.execPath, [tsc, ...args], { cwd: ROOT })).resolves.toBeDefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
