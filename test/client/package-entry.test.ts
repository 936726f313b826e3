// The caller client as a service meets it: `npm pack`, the tarball installed in a new project, imported from plain Node.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StartedLocalBroker, startTestLocalBroker } from "../support/local-broker.ts";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
/** The published package: the client's own package.json, README and LICENSE beside its build. */
const PACKAGE = join(ROOT, "packages/client");

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [field: string]: unknown;
}

let work: string;
let consumer: string;
let packed: { filename: string; files: { path: string }[] };
let local: StartedLocalBroker;
let installLog: { stdout: string; stderr: string };

/** Where Node would find `name` from the package installed at `from` (a lockfile key), as in node_modules. */
function resolveIn(packages: Record<string, LockEntry>, from: string, name: string): string {
  for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf("/node_modules/")))) {
    const key = dir === "" ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[key] !== undefined) return key;
    if (dir === "")
      throw new Error(`${name} (needed by ${from || "the package"}) is not in package-lock.json`);
  }
}

/**
 * A lockfile for the consumer holding the tarball and exactly the runtime dependencies it declares, at the versions
 * this project's lockfile pins: `npm ci --offline` then installs from the npm cache alone, as `npm ci` filled it.
 */
async function consumerLock(tarball: string): Promise<object> {
  const ours = JSON.parse(await readFile(join(ROOT, "package-lock.json"), "utf8"));
  const packages: Record<string, LockEntry> = ours.packages;
  const manifest = JSON.parse(await readFile(join(PACKAGE, "package.json"), "utf8"));
  const lock: Record<string, LockEntry> = {};
  const queue: [string, string][] = Object.keys(manifest.dependencies).map((name) => ["", name]);
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const key = resolveIn(packages, ...next);
    if (lock[key] !== undefined) continue;
    const { dev, optional, devOptional, peer, ...entry } = packages[key] ?? {};
    lock[key] = entry;
    for (const dep of Object.keys(entry.dependencies ?? {})) queue.push([key, dep]);
  }
  const integrity = `sha512-${createHash("sha512")
    .update(await readFile(tarball))
    .digest("base64")}`;
  return {
    name: "consumer",
    lockfileVersion: 3,
    requires: true,
    packages: {
      "": { name: "consumer", dependencies: { "maskinporten-broker": `file:${tarball}` } },
      "node_modules/maskinporten-broker": {
        version: manifest.version,
        resolved: `file:${tarball}`,
        integrity,
        license: manifest.license,
        dependencies: manifest.dependencies,
        engines: manifest.engines,
      },
      ...lock,
    },
  };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "broker-package-"));
  // `npm pack` runs the `prepack` script, so the tarball holds a fresh build of dist/.
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", work], { cwd: PACKAGE });
  [packed] = JSON.parse(stdout);
  const tarball = join(work, packed.filename);
  consumer = join(work, "consumer");
  await mkdir(consumer);
  const manifest = {
    name: "consumer",
    private: true,
    type: "module",
    dependencies: { "maskinporten-broker": `file:${tarball}` },
  };
  await writeFile(join(consumer, "package.json"), JSON.stringify(manifest));
  await writeFile(join(consumer, "package-lock.json"), JSON.stringify(await consumerLock(tarball)));
  installLog = await run("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--foreground-scripts"], {
    cwd: consumer,
  });
  local = await startTestLocalBroker();
}, 180_000);

afterAll(async () => {
  await local?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("the packed package", () => {
  it("holds the built client and no server source, tests or tooling", () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain("dist/client/index.js");
    expect(paths).toContain("dist/client/index.d.ts");
    expect(paths).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json"]));
    const unexpected = paths.filter(
      (p) => !/^(dist\/.+\.(js|d\.ts)|package\.json|README\.md|LICENSE)$/.test(p),
    );
    expect(unexpected).toEqual([]);
    expect(paths.filter((p) => /^dist\/(broker|signer|policy|cache|config|audit|grant)\//.test(p))).toEqual(
      [],
    );
  });

  it("is ignored by git where `npm pack` writes it, in packages/client", async () => {
    const tarball = join("packages/client", packed.filename);
    const { stdout } = await run("git", ["check-ignore", "--verbose", tarball], { cwd: ROOT });
    expect(stdout).toMatch(new RegExp(`^\\.gitignore:\\d+:\\*\\.tgz\\t${tarball}\\n$`));
  });

  it("is the client's own product: its README, its runtime dependencies as the broker pins them, no install script", async () => {
    const installed = join(consumer, "node_modules/maskinporten-broker");
    expect(await readFile(join(installed, "README.md"), "utf8")).toMatch(
      /^# maskinporten-broker \(caller client\)/,
    );
    const manifest = JSON.parse(await readFile(join(installed, "package.json"), "utf8"));
    const root = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
    for (const [name, range] of Object.entries(manifest.dependencies))
      expect(root.dependencies[name]).toBe(range);
    const installTime = ["preinstall", "install", "postinstall", "prepare"];
    expect(Object.keys(manifest.scripts ?? {}).filter((name) => installTime.includes(name))).toEqual([]);
    expect(`${installLog.stdout}${installLog.stderr}`).not.toMatch(/install script|lifecycle|prepare/i);
  });

  it("installs into a new project and imports from plain Node (no TypeScript loader)", async () => {
    const script =
      'import * as entry from "maskinporten-broker"; console.log(JSON.stringify(Object.keys(entry).sort()));';
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: consumer });
    expect(JSON.parse(stdout)).toEqual(["DEFAULT_MIN_TTL_SECONDS", "TokenBrokerError", "createTokenClient"]);
  });

  it("gets a token from a running broker with the service's credentials from the environment", async () => {
    const script = [
      'import { createTokenClient } from "maskinporten-broker";',
      "const broker = createTokenClient({ endpoint: process.env.TOKEN_BROKER_URL, region: process.env.AWS_REGION });",
      'const token = await broker.getToken({ scope: "skatteetaten:mva" });',
      "console.log(JSON.stringify(token));",
    ].join("\n");
    const { credential, broker } = local;
    const env = {
      PATH: process.env.PATH,
      HOME: work,
      TOKEN_BROKER_URL: broker.url,
      AWS_REGION: broker.region,
      AWS_ACCESS_KEY_ID: credential.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credential.secretAccessKey,
    };
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: consumer,
      env,
    });
    const token = JSON.parse(stdout);
    expect(token).toMatchObject({ token_type: "Bearer", scope: "skatteetaten:mva" });
    expect(token.access_token.split(".")).toHaveLength(3);
    expect(token.expires_in).toBeGreaterThanOrEqual(30);
  });

  // Seven type-checks, each up to a minute on a busy machine.
  it("type-checks a consumer with each TypeScript setting the README supports, and not with those it rules out", {
    timeout: 480_000,
  }, async () => {
    const source = [
      'import { createTokenClient, TokenBrokerError } from "maskinporten-broker";',
      'const broker = createTokenClient({ endpoint: "https://broker.example", region: "eu-north-1" });',
      'export const token: Promise<string> = broker.getToken({ scope: "skatteetaten:mva" }).then((t) => t.access_token);',
      "export const code = (e: unknown) => (e instanceof TokenBrokerError ? e.code : undefined);",
      "// @ts-expect-error scope is required",
      "broker.getToken({});",
    ].join("\n");
    // The consumer's package.json says "type": "module": consumer.ts is an ES module, consumer.cts CommonJS.
    await writeFile(join(consumer, "consumer.ts"), source);
    await writeFile(join(consumer, "consumer.cts"), source);
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    const args = ["--noEmit", "--strict", "--target", "es2024", "--types", "node"];
    // @types/node comes from this project: the consumer installed only the package and its runtime dependencies.
    const typeRoots = ["--typeRoots", join(ROOT, "node_modules/@types")];
    const check = (settings: string[], file: string) =>
      run(process.execPath, [tsc, ...args, ...settings, ...typeRoots, file], { cwd: consumer });
    for (const [settings, file] of [
      [["--module", "nodenext"], "consumer.ts"],
      [["--module", "nodenext"], "consumer.cts"],
      [["--module", "node20"], "consumer.ts"],
      [["--module", "node16"], "consumer.ts"],
      [["--module", "esnext", "--moduleResolution", "bundler"], "consumer.ts"],
    ] as const) {
      await expect(check([...settings], file), `${settings.join(" ")} ${file}`).resolves.toBeDefined();
    }
    // node16 from CommonJS would require() an ES module; node10 does not read the exports map.
    await expect(check(["--module", "node16"], "consumer.cts")).rejects.toMatchObject({
      stdout: expect.stringContaining("error TS1479"),
    });
    await expect(
      check(["--module", "commonjs", "--moduleResolution", "node10"], "consumer.ts"),
    ).rejects.toMatchObject({ stdout: expect.stringContaining("error TS2307") });
  });
});
