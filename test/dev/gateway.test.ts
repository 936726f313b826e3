import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway, type UploadAborted } from "../../dev/gateway.ts";
import { createSigV4Verifier } from "../../dev/sigv4.ts";

const REGION = "eu-north-1";
const KEY = { accessKeyId: "AKIALOCALTEST0000009", secretAccessKey: "g".repeat(40) };
const ROLE = "arn:aws:iam::000000000000:role/local-service";

let gateway: RunningGateway;
let handled = 0;
const crashes: unknown[] = [];
let aborted: (error: UploadAborted) => void = () => undefined;

beforeAll(async () => {
  gateway = await startGateway({
    host: "127.0.0.1",
    port: 0,
    authenticate: createSigV4Verifier({
      region: REGION,
      lookup: (id) =>
        id === KEY.accessKeyId ? { secretAccessKey: KEY.secretAccessKey, principalArn: ROLE } : undefined,
    }),
    routes: [
      {
        method: "POST",
        resource: "/token",
        functionName: "count",
        handler: async () => {
          handled++;
          return { statusCode: 200, body: "{}" };
        },
      },
    ],
    onCrash: (error) => crashes.push(error),
    onAbort: (error) => aborted(error),
  });
});
afterAll(() => gateway.close());

/** POSTs to the gateway a request signed with `host` as its Host header (and sent with it). */
async function signedFor(host: string): Promise<number> {
  const body = '{"scope":"skatteetaten:mva"}';
  const signer = new SignatureV4({
    service: "execute-api",
    region: REGION,
    credentials: KEY,
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: "http:",
      hostname: host,
      path: "/token",
      headers: { host, "content-type": "application/json" },
      body,
    },
    { signingDate: new Date() },
  );
  return new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${gateway.url}/token`, { method: "POST", headers: signed.headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("the local gateway", () => {
  it("a request signed for another Host is 403 and reaches no handler", async () => {
    const before = handled;
    expect(await signedFor("abc.execute-api.eu-north-1.amazonaws.com")).toBe(403);
    expect(await signedFor(`127.0.0.2:${new URL(gateway.url).port}`)).toBe(403);
    expect(handled).toBe(before);
    // The same request signed for the gateway's own host goes through, under both of its loopback names.
    expect(await signedFor(new URL(gateway.url).host)).toBe(200);
    expect(await signedFor(`localhost:${new URL(gateway.url).port}`)).toBe(200);
    expect(handled).toBe(before + 2);
  });

  it("an upload the client aborts is logged as an aborted upload, not as a handler crash", async () => {
    const logged = new Promise<UploadAborted>((resolve) => {
      aborted = resolve;
    });
    const { port } = new URL(gateway.url);
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write(
      `POST /token HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"scope":`,
    );
    await new Promise((resolve) => setImmediate(resolve));
    socket.destroy();
    const error = await logged;
    // However much of the body had arrived when the socket closed.
    expect(error.message).toMatch(
      /^POST \/token: the client closed the connection after [09] byte\(s\) of the body$/,
    );
    expect(crashes).toEqual([]);
  });
});
