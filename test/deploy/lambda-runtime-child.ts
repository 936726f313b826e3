// Child `node` standing in for the nodejs24.x runtime: imports the handler `_HANDLER` names from LAMBDA_TASK_ROOT, then invokes it for each event the parent sends over IPC.
// Run by plain Node (type stripping), never by vitest: only `node:` imports and erasable TypeScript here.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";

/** The serialisable part of a Lambda context; the child adds the functions. */
export type ContextData = Omit<Context, "getRemainingTimeInMillis" | "done" | "fail" | "succeed">;

export interface InvokeRequest {
  id: number;
  event: APIGatewayProxyEvent;
  context: ContextData;
}

export type ChildReport =
  | { kind: "ready" }
  | { kind: "init-error"; code: string | undefined; message: string }
  | { kind: "result"; id: number; result: APIGatewayProxyResult }
  | { kind: "invoke-error"; id: number; message: string; stack: string | undefined };

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const TIMEOUT_MS = 28_000;

/** Resolves once the message is handed to the IPC channel (so exiting afterwards does not lose it). */
function report(message: ChildReport): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

function errorParts(error: unknown): { code: string | undefined; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    code: typeof code === "string" ? code : undefined,
    message: error instanceof Error ? error.message : String(error),
  };
}

/** "functions/token.handler" -> the `handler` export of <task root>/functions/token.mjs (the runtime also tries .js/.cjs). */
async function loadHandler(): Promise<Handler> {
  const spec = process.env._HANDLER ?? "";
  const dot = spec.lastIndexOf(".");
  const file = join(process.env.LAMBDA_TASK_ROOT ?? "", `${spec.slice(0, dot)}.mjs`);
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const handler = module[spec.slice(dot + 1)];
  if (typeof handler !== "function") throw new Error(`${spec}: no such exported function`);
  return handler as Handler;
}

let handler: Handler;
try {
  handler = await loadHandler();
} catch (error) {
  await report({ kind: "init-error", ...errorParts(error) });
  process.exit(1);
}
process.on("message", async ({ id, event, context }: InvokeRequest) => {
  const deadline = Date.now() + TIMEOUT_MS;
  const full: Context = {
    ...context,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  try {
    await report({ kind: "result", id, result: await handler(event, full) });
  } catch (error) {
    const stack = error instanceof Error ? error.stack : undefined;
    await report({ kind: "invoke-error", id, message: errorParts(error).message, stack });
  }
});
await report({ kind: "ready" });
