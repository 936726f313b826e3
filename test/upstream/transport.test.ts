import { generateKeyPairSync } from "node:crypto";
import { getEventListeners, once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { isTimeout } from "../../lib/upstream/retry.ts";
import { BodyTooLarge, MAX_BODY_BYTES, nodeTransport } from "../../lib/upstream/transport.ts";
import { createCertificate } from "../support/certificate.ts";

interface Received {
  method: string | undefined;
  headers: IncomingMessage["headers"];
  body: string;
  socket: Socket;
}

let server: Pick<Server, "close" | "closeAllConnections" | "address" | "listen" | "once"> | undefined;

afterEach(async () => {
  const open = server;
  server = undefined;
  if (open === undefined) return;
  open.closeAllConnections();
  await new Promise((resolve) => open.close(resolve));
});

/** A loopback server; `answer` handles each request after its body has arrived. */
async function serve(
  answer: (request: Received, response: ServerResponse) => void,
  tls?: { key: string; cert: string },
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      const request = { method: req.method, headers: req.headers, body, socket: req.socket };
      received.push(request);
      answer(request, res);
    });
  };
  server = tls === undefined ? createServer(handle) : createHttpsServer(tls, handle);
  // https: by name, so the certificate's subject (CN=localhost) is what the client checks the host against.
  server.listen(0, "127.0.0.1");
  await once(server as Server, "listening");
  const origin = tls === undefined ? "http://127.0.0.1" : "https://localhost";
  return { url: `${origin}:${(server.address() as AddressInfo).port}/token`, received };
}

/** A self-signed certificate for localhost and its key, made for this run. */
function localhostCertificate(): { key: string; cert: string } {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const { pem } = createCertificate({ subject: "localhost", key: privateKey });
  return { key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), cert: pem };
}

describe("nodeTransport", () => {
  it("posts the body and headers, and answers status, headers (any case) and text", async () => {
    const upstream = await serve((_request, res) => {
      res.writeHead(400, { "content-type": "application/json", "retry-after": "2" });
      res.end('{"error":"invalid_grant","error_description":"æøå"}');
    });
    const response = await nodeTransport()(upstream.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: "grant_type=x&assertion=ø",
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("Retry-After")).toBe("2");
    expect(response.headers.get("x-absent")).toBeNull();
    expect(await response.text()).toBe('{"error":"invalid_grant","error_description":"æøå"}');
    expect(upstream.received[0]).toMatchObject({
      method: "POST",
      body: "grant_type=x&assertion=ø",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
        "content-length": String(Buffer.byteLength("grant_type=x&assertion=ø")),
      },
    });
  });

  it("sends a GET without a body", async () => {
    const upstream = await serve((_request, res) => res.end("token"));
    const response = await nodeTransport()(upstream.url, {
      method: "GET",
      headers: { authorization: "Bearer t" },
    });
    expect(await response.text()).toBe("token");
    expect(upstream.received[0]?.method).toBe("GET");
    expect(upstream.received[0]?.headers.authorization).toBe("Bearer t");
    expect(upstream.received[0]?.body).toBe("");
  });

  it("keeps the connection open: a second call reuses the socket", async () => {
    const upstream = await serve((_request, res) => res.end("{}"));
    const transport = nodeTransport();
    for (let i = 0; i < 2; i++) {
      const response = await transport(upstream.url, { method: "POST", headers: {}, body: "x" });
      await response.text();
    }
    expect(upstream.received).toHaveLength(2);
    expect(upstream.received[1]?.socket).toBe(upstream.received[0]?.socket);
  });

  it("rejects with an AbortError (a timeout to the retry loop) when the signal aborts before the answer", async () => {
    const controller = new AbortController();
    const upstream = await serve(() => controller.abort(new DOMException("slow", "TimeoutError")));
    const call = nodeTransport()(upstream.url, {
      method: "POST",
      headers: {},
      body: "x",
      signal: controller.signal,
    });
    const error = await call.catch((e: unknown) => e);
    expect(isTimeout(error)).toBe(true);
    expect(upstream.received).toHaveLength(1);
  });

  it("rejects with an AbortError when the signal aborts in the middle of the body, or before the call", async () => {
    const controller = new AbortController();
    const upstream = await serve((_request, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial", () => controller.abort(new DOMException("slow", "TimeoutError")));
    });
    const transport = nodeTransport();
    const call = (signal: AbortSignal) =>
      transport(upstream.url, { method: "POST", headers: {}, body: "x", signal }).catch((e: unknown) => e);
    const midBody = await call(controller.signal);
    expect(isTimeout(midBody)).toBe(true);
    expect((midBody as Error).cause).toBeInstanceOf(DOMException);
    const before = await call(controller.signal);
    expect(isTimeout(before)).toBe(true);
    expect(upstream.received).toHaveLength(1);
  });

  it("leaves no abort listener on the signal once the call has answered", async () => {
    const upstream = await serve((_request, res) => res.end("{}"));
    const signal = new AbortController().signal;
    const response = await nodeTransport()(upstream.url, { method: "POST", headers: {}, body: "x", signal });
    expect(await response.text()).toBe("{}");
    await new Promise(setImmediate);
    expect(getEventListeners(signal, "abort")).toEqual([]);
  });

  it("rejects when the connection is cut in the middle of the body", async () => {
    const upstream = await serve((_request, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial", () => res.socket?.destroy());
    });
    const error = await nodeTransport()(upstream.url, { method: "POST", headers: {}, body: "x" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(isTimeout(error)).toBe(false);
  });

  it("reads a body of exactly MAX_BODY_BYTES, and refuses one byte more, announced or streamed, with BodyTooLarge", async () => {
    const full = "x".repeat(MAX_BODY_BYTES);
    const upstream = await serve((request, res) => {
      if (request.body === "announced") {
        // Refused on its Content-Length, before any of the body is read.
        res.writeHead(200, { "content-length": String(MAX_BODY_BYTES + 1) });
        res.write("x");
        return;
      }
      // A chunked answer announces no length: the cap is counted as the body arrives.
      res.setHeader("transfer-encoding", "chunked");
      const body = request.body === "over" ? `${full}x` : full;
      res.write(body.slice(0, 1000));
      res.end(body.slice(1000));
    });
    const transport = nodeTransport();
    const post = (body: string) => transport(upstream.url, { method: "POST", headers: {}, body });
    expect(await (await post("exact")).text()).toHaveLength(MAX_BODY_BYTES);
    for (const body of ["over", "announced"]) {
      const error = await post(body).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BodyTooLarge);
      expect(isTimeout(error)).toBe(false);
    }
  });

  it("rejects when nothing listens (a network error, not a timeout)", async () => {
    const upstream = await serve(() => undefined);
    server?.close();
    await once(server as Server, "close");
    server = undefined;
    const error = await nodeTransport()(upstream.url, { method: "POST", headers: {}, body: "x" }).catch(
      (e: unknown) => e,
    );
    expect((error as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
    expect(isTimeout(error)).toBe(false);
  });

  describe("over https", () => {
    it("posts and answers over TLS to a server whose certificate it trusts, reusing the connection", async () => {
      const tls = localhostCertificate();
      const upstream = await serve((request, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ secure: "encrypted" in request.socket, body: request.body }));
      }, tls);
      const transport = nodeTransport({ ca: tls.cert });
      for (let i = 0; i < 2; i++) {
        const response = await transport(upstream.url, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: `assertion=ø${i}`,
        });
        expect(response.status).toBe(200);
        expect(response.headers.get("Content-Type")).toBe("application/json");
        expect(JSON.parse(await response.text())).toEqual({ secure: true, body: `assertion=ø${i}` });
      }
      expect(upstream.received[1]?.headers["content-length"]).toBe(String(Buffer.byteLength("assertion=ø1")));
      expect(upstream.received[1]?.socket).toBe(upstream.received[0]?.socket);
    });

    it("refuses a server whose certificate it does not trust, before sending anything", async () => {
      const upstream = await serve((_request, res) => res.end("{}"), localhostCertificate());
      const error = await nodeTransport()(upstream.url, { method: "POST", headers: {}, body: "x" }).catch(
        (e: unknown) => e,
      );
      expect((error as NodeJS.ErrnoException).code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
      expect(isTimeout(error)).toBe(false);
      expect(upstream.received).toHaveLength(0);
    });
  });
});
