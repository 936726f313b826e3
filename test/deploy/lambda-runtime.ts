// Runs a packaged function as the nodejs24.x runtime would, outside vitest: the zip unpacked as the task root, the
// AWS SDK v3 only from a stand-in for the runtime's /var/runtime/node_modules, the handler in a child `node`.
import { fork } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { lambdaContext } from "../../dev/api-gateway-event.ts";
import { readZip } from "../../scripts/zip.ts";
import type { ChildReport, InvokeRequest } from "./lambda-runtime-child.ts";
import { REPO_ROOT } from "./package-service.ts";

const CHILD = join(import.meta.dirname, "lambda-runtime-child.ts");

export interface LambdaTask {
  /** The unpacked zip: what Lambda mounts as /var/task. */
  root: string;
  /** The names of the zip's entries. */
  entries: string[];
  remove(): void;
}

/** Throws if a node_modules directory above `dir` could resolve imports the task leaves external. */
function assertNoNodeModulesAbove(dir: string): void {
  for (let at = dirname(dir); ; at = dirname(at)) {
    if (existsSync(join(at, "node_modules")))
      throw new Error(`${at}/node_modules would resolve for the task`);
    if (dirname(at) === at) return;
  }
}

/**
 * Unpacks `zipPath` into <tmp>/task. With `runtimeSdk`, <tmp>/node_modules holds only `@aws-sdk`, a symlink to the
 * repo's copy (whose own dependencies resolve from its real path): the stand-in for /var/runtime/node_modules.
 *
 * Why a node_modules directory above the task root and not NODE_PATH: Lambda sets NODE_PATH to
 * /opt/nodejs/node24/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task and,
 * since nodejs18.x, its runtime resolves ES module imports from NODE_PATH too; plain Node reads NODE_PATH for
 * require() only. For a bare import in <tmp>/task/functions/token.mjs, Node looks in <tmp>/task/functions/node_modules
 * and <tmp>/task/node_modules (neither exists: the zip has no node_modules), then in <tmp>/node_modules: the same
 * "not in the task, so from the runtime's directory" fallback, without a resolve hook of our own that could itself
 * be wrong. Nothing above <tmp> has a node_modules (checked), so without the stand-in an external import fails.
 */
export function unpackTask(zipPath: string, options: { runtimeSdk: boolean }): LambdaTask {
  const dir = mkdtempSync(join(tmpdir(), "mp-broker-lambda-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    assertNoNodeModulesAbove(dir);
    const root = join(dir, "task");
    const zip = readZip(zipPath);
    for (const entry of zip.filter((e) => !e.name.endsWith("/"))) {
      mkdirSync(dirname(join(root, entry.name)), { recursive: true });
      writeFileSync(join(root, entry.name), entry.read());
    }
    if (options.runtimeSdk) {
      mkdirSync(join(dir, "node_modules"));
      symlinkSync(join(REPO_ROOT, "node_modules", "@aws-sdk"), join(dir, "node_modules", "@aws-sdk"), "dir");
    }
    return { root, entries: zip.map((entry) => entry.name), remove };
  } catch (error) {
    remove();
    throw error;
  }
}

/** The handler module could not be imported (Lambda's Runtime.ImportModuleError). */
export class FunctionInitError extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "FunctionInitError";
  }
}

/** The handler threw (Lambda logs the error and its stack, and fails the invocation). */
export class InvocationError extends Error {
  constructor(
    message: string,
    /** The error's stack as the function's own process formatted it. */
    readonly handlerStack: string | undefined,
  ) {
    super(`the handler threw: ${message}`);
    this.name = "InvocationError";
  }
}

export interface LambdaFunction {
  invoke(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult>;
  stop(): Promise<void>;
}

export interface FunctionOptions {
  /** As in serverless.yml, e.g. "functions/token.handler". */
  handler: string;
  functionName: string;
  /** The function's environment; the child gets nothing else from this process but PATH. */
  env: Readonly<Record<string, string>>;
}

/**
 * Starts a child `node` (this Node, no vitest) in the task root, as Lambda does, and imports the handler.
 * Resolves once the import succeeded; rejects with FunctionInitError when it failed.
 */
export async function startFunction(task: LambdaTask, options: FunctionOptions): Promise<LambdaFunction> {
  const child = fork(CHILD, [], {
    cwd: task.root,
    execPath: process.execPath,
    execArgv: [],
    env: {
      PATH: process.env.PATH ?? "",
      LAMBDA_TASK_ROOT: task.root,
      _HANDLER: options.handler,
      AWS_LAMBDA_FUNCTION_NAME: options.functionName,
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const pending = new Map<number, { resolve(r: APIGatewayProxyResult): void; reject(e: Error): void }>();
  let nextId = 0;

  const ready = new Promise<void>((resolve, reject) => {
    child.on("message", (report: ChildReport) => {
      if (report.kind === "ready") resolve();
      else if (report.kind === "init-error") reject(new FunctionInitError(report.code, report.message));
      else if (report.kind === "result") pending.get(report.id)?.resolve(report.result);
      else pending.get(report.id)?.reject(new InvocationError(report.message, report.stack));
      if ("id" in report) pending.delete(report.id);
    });
    child.on("exit", (code, signal) => {
      const gone = new Error(`the function's node exited (${signal ?? code}); its output:\n${output}`);
      reject(gone);
      for (const { reject: fail } of pending.values()) fail(gone);
      pending.clear();
    });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  };
  await ready.catch(async (error: unknown) => {
    await stop();
    throw error;
  });

  return {
    invoke(event) {
      const id = nextId++;
      const {
        getRemainingTimeInMillis: _,
        done: _d,
        fail: _f,
        succeed: _s,
        ...context
      } = lambdaContext(options.functionName);
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, event, context } satisfies InvokeRequest);
      });
    },
    stop,
  };
}
