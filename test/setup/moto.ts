// Vitest global setup: a local moto server (real KMS and Secrets Manager APIs) on a free port for the whole run.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import type { TestProject } from "vitest/node";

const INSTALL_HINT =
  "moto is needed for the KMS and Secrets Manager tests: install the pinned test tools with `python3 -m pip install -r requirements-test.txt` (python3 -m moto.server must run), or run `npm run test:unit`, which needs no Python";
const START_TIMEOUT_MS = 30_000;

declare module "vitest" {
  interface ProvidedContext {
    awsEndpointUrl: string;
  }
}

let moto: ChildProcess | undefined;

export default async function startMoto(project: TestProject): Promise<() => Promise<void>> {
  moto = spawn("python3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = await announcedUrl(moto);
  await answers(url);
  // Workers are forked after global setup and inherit this environment, so every SDK client reaches moto.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: url,
    AWS_REGION: "eu-north-1",
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  project.provide("awsEndpointUrl", url);
  return stopMoto;
}

async function stopMoto(): Promise<void> {
  const child = moto;
  moto = undefined;
  if (child === undefined || child.exitCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

/** Werkzeug prints "Running on http://127.0.0.1:<port>" once it listens on the port the OS picked. */
function announcedUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const settle = () => {
      clearTimeout(timer);
      child.stdout?.off("data", read);
      child.stderr?.off("data", read);
      child.off("error", onError);
      child.off("exit", onExit);
      // Keep draining moto's request log so its pipe never fills up.
      child.stdout?.resume();
      child.stderr?.resume();
    };
    const fail = (why: string) => {
      settle();
      child.kill("SIGKILL");
      reject(new Error(`moto did not start (${why}). ${INSTALL_HINT}\n${output.slice(-2000)}`));
    };
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1] === undefined) return;
      settle();
      resolve(match[1]);
    };
    const onError = (error: Error) => fail(error.message);
    const onExit = (code: number | null) => fail(`python3 -m moto.server exited with code ${code}`);
    const timer = setTimeout(() => fail(`no answer within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.once("error", onError);
    child.once("exit", onExit);
  });
}

/** Polls moto's own API until it serves requests. */
async function answers(url: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/moto-api/data.json`)).ok) return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stopMoto();
  throw new Error(`moto at ${url} does not answer. ${INSTALL_HINT}`, { cause: last });
}
