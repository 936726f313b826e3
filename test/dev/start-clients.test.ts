// `LOCAL_CLIENTS=2 npm start`: two local clients, each with its own key, registered at the emulator and used by name.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenClient, TokenBrokerError } from "../../lib/client/index.ts";
import { type NpmStart, runPrinted, startNpmStart } from "../support/npm-start.ts";

let started: NpmStart;
let credentials: { accessKeyId: string; secretAccessKey: string };

beforeAll(async () => {
  started = await startNpmStart({ LOCAL_CLIENTS: "2" });
  const file = JSON.parse(await readFile(join(started.dir, "credentials.json"), "utf8"));
  credentials = file.credentials[0];
}, 90_000);
afterAll(() => started.close());

/** The last line printed: `--raw`'s token after npm's header. */
const lastLine = (stdout: string) => stdout.trim().split("\n").at(-1) ?? "";

const claimsOf = (accessToken: string) =>
  JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;

describe("npm start with LOCAL_CLIENTS=2", () => {
  it("names both clients in its banner, and its curl command names the first", async () => {
    expect(started.output()).toMatch(/clients: {6}local-1, local-2/);
    const { stdout } = await runPrinted(started.banner.curl);
    expect(claimsOf(JSON.parse(stdout).access_token)).toMatchObject({ client_id: "local-broker-1" });
  });

  it("answers the caller client for each client with that client's token; without client it is 400", async () => {
    const client = createTokenClient({ endpoint: started.banner.url, region: "eu-north-1", credentials });
    const scope = "skatteetaten:inntektsmottak";
    const first = await client.getToken({ scope, client: "local-1" });
    const second = await client.getToken({ scope, client: "local-2" });
    expect(claimsOf(first.access_token)).toMatchObject({ client_id: "local-broker-1" });
    expect(claimsOf(second.access_token)).toMatchObject({ client_id: "local-broker-2" });
    const missing = await client.getToken({ scope }).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(TokenBrokerError);
    expect(missing).toMatchObject({ status: 400, code: "invalid_request" });
  });

  it("answers the printed npm run token line (naming local-1), and with --client local-2 local-2's token", async () => {
    expect(started.banner.token).toMatch(/ --client local-1$/);
    const first = await runPrinted(`${started.banner.token} --raw`);
    expect(claimsOf(lastLine(first.stdout))).toMatchObject({ client_id: "local-broker-1" });
    const second = await runPrinted(`${started.banner.token.replace(/local-1$/, "local-2")} --raw`);
    expect(claimsOf(lastLine(second.stdout))).toMatchObject({
      client_id: "local-broker-2",
      scope: "skatteetaten:mva",
    });
  });

  it("answers the printed key status command for local-1", async () => {
    const { stdout } = await runPrinted(started.banner.keys ?? "missing");
    expect(JSON.parse(stdout)).toMatchObject({ client_id: "local-broker-1" });
  });

  it("serves both clients' keys at /.well-known/jwks.json", async () => {
    const { stdout } = await runPrinted(
      started.banner.curl.replace(/ -H 'Content-Type.*$/, ` ${started.banner.url}/.well-known/jwks.json`),
    );
    const kids = (JSON.parse(stdout).keys as { kid: string }[]).map((key) => key.kid);
    expect(new Set(kids).size).toBe(2);
  });
});
