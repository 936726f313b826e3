// Test support: `npm start` as a newcomer runs it, in a child process group of its own, until its banner is printed.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const BROKER_VARIABLES = /^(MASKINPORTEN_|SIGNING_|POLICY|TOKEN_|UPSTREAM_|AWS_|ALTINN_|PID_|CLIENTS|LOCAL_)/;

/** This process's environment without the variables that configure a broker or reach AWS. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !BROKER_VARIABLES.test(k)));
}

const execFileAsync = promisify(execFile);

/** Runs a line the banner printed, as a newcomer pastes it into a shell: none of the broker's variables set. */
export function runPrinted(line: string): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync("bash", ["-c", line], { env: cleanEnv() });
}

/** The JSON a command printed after npm's own `> package@version script` header lines. */
export function printedJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.slice(stdout.indexOf("{")));
}

export interface NpmStart {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /**
   * The URL it listens on and the commands it printed: curl, `npm run token` and (with the emulator)
   * `npm run keys`.
   */
  banner: { url: string; curl: string; token: string; keys?: string };
  /** Its LOCAL_DIR (keys, credentials, policy). */
  dir: string;
  /** Runs a line its banner printed, as a newcomer pastes it into a shell beside it: none of its variables set. */
  run(line: string): Promise<{ stdout: string; stderr: string }>;
  /** Kills the group if still running, removes LOCAL_DIR. */
  close(): Promise<void>;
}

/** How to launch one `npm start`: its command line, working directory and environment, and what to remove after. */
interface Launch {
  command: string;
  args: string[];
  cwd?: string;
  env: NodeJS.ProcessEnv;
  /** Its LOCAL_DIR. */
  dir: string;
  /** Runs a printed line where this `npm start` (its process `child`) can be reached. */
  run(line: string, child: ChildProcess): Promise<{ stdout: string; stderr: string }>;
  /** Removes what the launch made, after the group is down. */
  cleanup(): Promise<void>;
}

/** `npm start` in a network namespace of its own (`unshare -rn`, loopback up): no network but loopback. */
const ISOLATED = {
  command: "unshare",
  args: ["-rn", "--", "bash", "-c", "ip link set lo up && exec npm start"],
};

/** Runs `line` in the network namespace of `child` (started as ISOLATED), from `cwd`, with none of our variables. */
function runIsolated(line: string, child: ChildProcess, cwd?: string) {
  const nsenter = ["--preserve-credentials", "-U", "-n", "-t", String(child.pid)];
  return execFileAsync("nsenter", [...nsenter, "bash", "-c", line], { cwd, env: cleanEnv() });
}

/**
 * Starts `npm start` on a free port in a fresh LOCAL_DIR, without the caller's broker variables, plus `env`.
 * `keys: false` for a run without the emulator, whose banner has no `npm run keys` line. `offline: true` runs it,
 * and the lines it prints, with no network but loopback (as on a laptop without one): nothing beyond this host
 * answers, whatever this host can reach.
 */
export async function startNpmStart(
  env: Record<string, string> = {},
  options: { keys?: boolean; offline?: boolean } = {},
): Promise<NpmStart> {
  const dir = await mkdtemp(join(tmpdir(), "broker-start-"));
  const how = options.offline ? ISOLATED : { command: "npm", args: ["start"] };
  return launch(
    {
      ...how,
      env: { ...cleanEnv(), PORT: "0", LOCAL_DIR: dir, ...env },
      dir,
      run: options.offline ? (line, child) => runIsolated(line, child) : runPrinted,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    },
    options.keys ?? true,
  );
}

const ROOT = resolve(import.meta.dirname, "../..");

/**
 * `npm start` exactly as a newcomer first runs it: no PORT, no LOCAL_DIR, so on port 3000 with `.local`. So that
 * port and directory are its own, it runs in a checkout of symlinks to this one (with no `.local` yet) and in a
 * network namespace of its own (`unshare -rn`, loopback up), where its printed lines run too (`nsenter`), from
 * that checkout as a newcomer's shell would.
 */
export async function startNpmStartAsIs(): Promise<NpmStart> {
  const checkout = await mkdtemp(join(tmpdir(), "broker-checkout-"));
  for (const name of await readdir(ROOT)) {
    if (name !== ".local" && name !== ".git") await symlink(join(ROOT, name), join(checkout, name));
  }
  return launch(
    {
      ...ISOLATED,
      cwd: checkout,
      env: cleanEnv(),
      dir: join(checkout, ".local"),
      run: (line, child) => runIsolated(line, child, checkout),
      // Removes the symlinks and the new .local, never what they point at.
      cleanup: () => rm(checkout, { recursive: true, force: true }),
    },
    true,
  );
}

async function launch(how: Launch, wantKeys: boolean): Promise<NpmStart> {
  const child = spawn(how.command, how.args, { cwd: how.cwd, env: how.env, stdio: "pipe", detached: true });
  let output = "";
  const close = async () => {
    // Still running only if a test failed before Ctrl-C: take the whole group down (npm, shell, broker).
    if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid ?? 0), "SIGKILL");
    await how.cleanup();
  };
  const banner = await new Promise<NpmStart["banner"]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /running on (http:\/\/\S+)/.exec(output)?.[1];
      const curl = /Get a token:\n(.+\\\n.+\/token)\n/.exec(output)?.[1];
      const token = /^Or: (.*npm run token -- .+)$/m.exec(output)?.[1];
      const keys = /self-service API.*:\n {2}(.+npm run --silent keys -- status.*)\n/.exec(output)?.[1];
      if (
        url !== undefined &&
        curl !== undefined &&
        token !== undefined &&
        (keys !== undefined) === wantKeys
      ) {
        clearTimeout(timer);
        resolve({ url, curl: curl.replace(/\\\n/, " "), token, ...(keys === undefined ? {} : { keys }) });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  }).catch(async (error: unknown) => {
    await close();
    throw error;
  });
  return { child, output: () => output, banner, dir: how.dir, run: (line) => how.run(line, child), close };
}
