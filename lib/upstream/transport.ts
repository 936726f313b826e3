// The upstream HTTP calls (Maskinporten, Altinn, self-service API): fetch-shaped, over node:https / node:http with keep-alive
// agents, so the Lambda path never loads undici (fetch's ~40 ms first load); `fetch` itself still fits the type.
import type { IncomingMessage } from "node:http";

// Not `import ... from "node:http"`: an ES import of node:http reads every export, and one of them loads undici
// (~45 ms at a cold start). The module objects themselves are the same. node:https (and TLS with it) is loaded on
// the first https call: a function that never calls out (jwks, health) or only plain http (the local emulator)
// never pays for it.
const http = process.getBuiltinModule("node:http");
let https: typeof import("node:https") | undefined;

/** The part of a fetch Response the upstream clients read. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** The part of fetch's RequestInit the upstream clients send. */
export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Redirects are never followed (fetch needs to be told). */
  redirect?: "manual";
  /** Aborts the call, headers and body alike, with an AbortError. */
  signal?: AbortSignal;
}

/** `fetch` fits this type, so tests can inject one (or a wrapper around one). */
export type HttpTransport = (url: string, request: HttpRequest) => Promise<HttpResponse>;

/** Idle keep-alive sockets close after this long, as fetch's do. */
const IDLE_SOCKET_MS = 4_000;

/**
 * The largest answer body read (64 KiB): a token answer is a few KiB. Beyond it the call is aborted, so a huge body
 * can neither exhaust the function's memory nor throw where nothing catches it.
 */
export const MAX_BODY_BYTES = 64 * 1024;

/** The answer's body was longer than MAX_BODY_BYTES; the connection was dropped. */
export class BodyTooLarge extends Error {
  override name = "BodyTooLarge";
  constructor() {
    super(`the answer's body exceeds ${MAX_BODY_BYTES} bytes`);
  }
}

function headerValue(response: IncomingMessage, name: string): string | null {
  const value = response.headers[name.toLowerCase()];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(", ") : value;
}

/** TLS trust of the https agent; by default Node's own CA store (what the Lambda path uses). */
export interface TransportOptions {
  /** Certificates to trust instead of the default store, PEM (tests: a local https server's own certificate). */
  ca?: string | readonly string[];
}

/**
 * A transport over node:https (and node:http, for the local emulator) that keeps connections open between calls.
 * It resolves once the whole body has arrived (at most MAX_BODY_BYTES, else it rejects with BodyTooLarge); the signal
 * covers the body too.
 */
export function nodeTransport(tls: TransportOptions = {}): HttpTransport {
  const options = { keepAlive: true, timeout: IDLE_SOCKET_MS };
  const plain = new http.Agent(options);
  let secureAgent: import("node:https").Agent | undefined;
  return (url, request) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === "https:";
      let send = http.request;
      let agent: import("node:http").Agent = plain;
      if (secure) {
        https ??= process.getBuiltinModule("node:https");
        secureAgent ??= new https.Agent(
          tls.ca === undefined
            ? options
            : { ...options, ca: typeof tls.ca === "string" ? tls.ca : [...tls.ca] },
        );
        send = https.request;
        agent = secureAgent;
      }
      const outgoing = send(
        target,
        {
          method: request.method,
          headers:
            request.body === undefined
              ? request.headers
              : { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) },
          agent,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let bytes = 0;
          const tooLarge = () => {
            reject(new BodyTooLarge());
            response.destroy();
          };
          if (Number(response.headers["content-length"]) > MAX_BODY_BYTES) return tooLarge();
          response.on("data", (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > MAX_BODY_BYTES) tooLarge();
            else chunks.push(chunk);
          });
          response.on("error", reject);
          response.on("close", () => {
            if (!response.complete)
              reject(abortError(request.signal) ?? new Error("the response was cut off"));
          });
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            resolve({
              status: response.statusCode ?? 0,
              headers: { get: (name) => headerValue(response, name) },
              text: async () => text,
            });
          });
        },
      );
      outgoing.on("error", reject);
      // The signal by hand, not http.request's `signal` option: Node's wiring of it (an abort listener and an
      // end-of-stream watch on the request) took 2.6 M of the 157 M instructions to the first token (callgrind).
      const { signal } = request;
      if (signal !== undefined) {
        const abort = () => outgoing.destroy(abortError(signal));
        if (signal.aborted) abort();
        else {
          signal.addEventListener("abort", abort, { once: true });
          outgoing.on("close", () => signal.removeEventListener("abort", abort));
        }
      }
      outgoing.end(request.body);
    });
}

/** The AbortError an aborted signal stands for (what fetch rejects with), if it was aborted. */
function abortError(signal: AbortSignal | undefined): Error | undefined {
  if (signal?.aborted !== true) return undefined;
  return Object.assign(new Error("The operation was aborted", { cause: signal.reason }), {
    name: "AbortError",
  });
}

let shared: HttpTransport | undefined;

/** The container's one transport (its agents keep the connections), made on first use. */
export function defaultTransport(): HttpTransport {
  shared ??= nodeTransport();
  return shared;
}
