// The emulator's Altinn exchange on its own: Altinn's checks of the Maskinporten token, its 30-minute JWT, its faults.
import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeJwt, exportJWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALTINN_TOKEN_SECONDS, createAltinnExchange } from "../../dev/emulator/altinn.ts";

const ISSUER = "http://127.0.0.1/maskinporten/";
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const CONSUMER = { authority: "iso6523-actorid-upis", ID: "0192:974760673" };

let server: Server;
let url = "";
let altinn: Awaited<ReturnType<typeof createAltinnExchange>>;
const closing = new AbortController();

beforeAll(async () => {
  altinn = await createAltinnExchange({
    maskinportenJwk: await exportJWK(publicKey),
    maskinportenIssuer: () => ISSUER,
    now: Date.now,
    closing: closing.signal,
  });
  server = createServer((req, res) => {
    altinn.handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  closing.abort();
  await new Promise((resolve) => server.close(resolve));
});

function maskinportenToken(claims: Record<string, unknown> = {}, key = privateKey): Promise<string> {
  const iat = nowSeconds();
  return new SignJWT({
    iss: ISSUER,
    scope: "altinn:x",
    client_id: "c",
    consumer: CONSUMER,
    iat,
    exp: iat + 120,
    ...claims,
  })
    .setProtectedHeader({ alg: "RS256" })
    .sign(key);
}

const exchange = (token: string | undefined, method = "GET") =>
  fetch(url, { method, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

describe("the emulator's Altinn exchange", () => {
  it("answers a JWT valid 30 minutes for a Maskinporten token it can verify", async () => {
    const response = await exchange(await maskinportenToken());
    expect(response.status).toBe(200);
    const claims = decodeJwt(await response.text());
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(ALTINN_TOKEN_SECONDS);
    expect(claims).toMatchObject({ scope: "altinn:x", "urn:altinn:orgNumber": "974760673" });
  });

  it("answers 401 for a token signed by another key, expired, of another issuer, without consumer, or none", async () => {
    const refused = [
      await maskinportenToken({}, stranger),
      await maskinportenToken({ iat: nowSeconds() - 300, exp: nowSeconds() - 60 }),
      await maskinportenToken({ iss: "https://elsewhere.example/" }),
      await maskinportenToken({ consumer: undefined }),
      undefined,
    ];
    for (const token of refused) {
      const response = await exchange(token);
      expect(response.status).toBe(401);
      expect(await response.text()).toBe("");
    }
  });

  it("answers only GET, and commits the injected faults in order", async () => {
    expect((await exchange(await maskinportenToken(), "POST")).status).toBe(405);
    altinn.injectFault({ type: "status", status: 503, retryAfter: "7" }, { type: "missing-expires-in" });
    const unavailable = await exchange(await maskinportenToken());
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get("retry-after")).toBe("7");
    const withoutExp = await exchange(await maskinportenToken());
    expect(decodeJwt(await withoutExp.text())).not.toHaveProperty("exp");
    expect(altinn.requests.slice(-2).map((r) => r.fault)).toEqual(["status", "missing-expires-in"]);
  });
});
