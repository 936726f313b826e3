// Test support: `npm start` as a newcomer runs it, in a child process group of its own, until its banner is printed.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  /** Kills the group if still running, removes LOCAL_DIR. */
  close(): Promise<void>;
}

/**
 * Starts `npm start` on a free port in a fresh LOCAL_DIR, without the caller's broker variables, plus `env`.
 * `keys: false` for a run without the emulator, whose banner has no `npm run keys` line.
 */
export async function startNpmStart(
  env: Record<string, string> = {},
  options: { keys?: boolean } = {},
): Promise<NpmStart> {
  const dir = await mkdtemp(join(tmpdir(), "broker-start-"));
  const child = spawn("npm", ["start"], {
    env: { ...cleanEnv(), PORT: "0", LOCAL_DIR: dir, ...env },
    stdio: "pipe",
    detached: true,
  });
  let output = "";
  const wantKeys = options.keys ?? true;
  const close = async () => {
    // Still running only if a test failed before Ctrl-C: take the whole group down (npm, shell, broker).
    if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid ?? 0), "SIGKILL");
    await rm(dir, { recursive: true, force: true });
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
  return { child, output: () => output, banner, dir, close };
}
