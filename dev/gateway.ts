// The local stand-in for the private REST API: node:http in, SigV4 checked like aws_iam, the Lambda handlers behind.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import type { LambdaHandler } from "../functions/http.ts";
import { apiGatewayEvent, type CallerIdentity, lambdaContext } from "./api-gateway-event.ts";

export interface Route {
  method: string;
  resource: string;
  functionName: string;
  handler: LambdaHandler;
}

/** What the authenticator sees of a request: everything SigV4 signs. */
export interface SignedRequest {
  method: string;
  path: string;
  rawQuery: string;
  /** Headers as received; a header sent on several lines has each line's value, in order. */
  headers: Readonly<Record<string, string | readonly string[]>>;
  body: Buffer;
}

export type Authentication =
  | { ok: true; identity: CallerIdentity }
  | { ok: false; status: number; message: string };

export interface GatewayOptions {
  host: string;
  port: number;
  routes: readonly Route[];
  authenticate: (request: SignedRequest) => Authentication;
  vpceId?: string;
  /** Called when a handler throws (a Lambda crash); the caller gets API Gateway's bare 502. */
  onCrash?: (error: unknown) => void;
  /** Called when a client closes the connection before its body arrived: no handler ran, nothing crashed. */
  onAbort?: (error: UploadAborted) => void;
}

/** The client went away mid-upload: the request never reached a handler. */
export class UploadAborted extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly receivedBytes: number,
  ) {
    super(`${method} ${path}: the client closed the connection after ${receivedBytes} byte(s) of the body`);
    this.name = "UploadAborted";
  }
}

export interface RunningGateway {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** API Gateway's own payload limit; the handler enforces the broker's 8 KiB itself. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

function readBody(req: IncomingMessage, path: string): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let complete = false;
    const aborted = () => reject(new UploadAborted(req.method ?? "GET", path, size));
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => {
      complete = true;
      resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks));
    });
    // A reset mid-body is an 'error' ("aborted", ECONNRESET) or only a 'close' before 'end'.
    req.on("error", aborted);
    req.on("close", () => {
      if (!complete) aborted();
    });
  });
}

/**
 * The Host values this gateway answers to: its own address and port, and the loopback names when it listens on
 * loopback (every local address when it listens on all). A request signed for another host (another API, a
 * replayed signature) is refused as API Gateway would never route it here.
 */
function ownHosts(host: string, port: number): ReadonlySet<string> {
  const loopback = ["127.0.0.1", "localhost", "::1"];
  const wildcard = host === "0.0.0.0" || host === "::";
  const names = new Set([host, ...(loopback.includes(host) || wildcard ? loopback : [])]);
  if (wildcard) {
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) names.add(address.address);
    }
  }
  return new Set(
    [...names].map((name) => `${name.includes(":") ? `[${name}]` : name}:${port}`.toLowerCase()),
  );
}

function singleHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(",") : value;
  }
  return out;
}

/** Every header line, repeats kept apart (Node's `req.headers` would join them with ", "); own properties only. */
function headerLines(req: IncomingMessage): Record<string, string[]> {
  const lines: Record<string, string[]> = Object.create(null);
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? "").toLowerCase();
    lines[name] = [...(lines[name] ?? []), req.rawHeaders[i + 1] ?? ""];
  }
  return lines;
}

function gatewayError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "Content-Type": "application/json", "x-amzn-ErrorType": "AccessDeniedException" });
  res.end(JSON.stringify({ message }));
}

async function serve(
  options: GatewayOptions,
  hosts: () => ReadonlySet<string>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://local");
  const method = req.method ?? "GET";
  const body = await readBody(req, url.pathname);
  if (body === null) return gatewayError(res, 413, "Request Too Long");
  const route = options.routes.find((r) => r.method === method && r.resource === url.pathname);
  // API Gateway answers unknown routes with 403 "Missing Authentication Token", before any auth.
  if (route === undefined) return gatewayError(res, 403, "Missing Authentication Token");
  // SigV4 signs the Host header (the verifier requires it); it must also be this gateway's own.
  if (!hosts().has((req.headers.host ?? "").toLowerCase())) {
    return gatewayError(res, 403, "Forbidden: the signed Host header names another host");
  }
  const auth = options.authenticate({
    method,
    path: url.pathname,
    rawQuery: url.search.slice(1),
    headers: headerLines(req),
    body,
  });
  if (!auth.ok) return gatewayError(res, auth.status, auth.message);
  const event = apiGatewayEvent({
    method,
    path: url.pathname,
    resource: route.resource,
    query: url.searchParams,
    headers: singleHeaders(req),
    body: body.length === 0 ? null : body.toString("utf8"),
    sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
    identity: auth.identity,
    ...(options.vpceId === undefined ? {} : { vpceId: options.vpceId }),
  });
  const result = await route.handler(event, lambdaContext(route.functionName));
  const outHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) outHeaders[k] = String(v);
  res.writeHead(result.statusCode, outHeaders);
  res.end(result.isBase64Encoded === true ? Buffer.from(result.body, "base64") : result.body);
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  let hosts: ReadonlySet<string> = new Set();
  const server = createServer((req, res) => {
    serve(options, () => hosts, req, res).catch((error: unknown) => {
      // Nobody is left to answer, and no handler ran.
      if (error instanceof UploadAborted) {
        options.onAbort?.(error);
        return;
      }
      // A handler that throws is a Lambda crash: API Gateway answers 502 without details; the log has them.
      options.onCrash?.(error);
      if (!res.headersSent) res.writeHead(502, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ message: "Internal server error" }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  hosts = ownHosts(options.host, port);
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
