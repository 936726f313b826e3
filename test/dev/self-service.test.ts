import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MaskinportenEmulator, startMaskinportenEmulator } from "../../dev/maskinporten-emulator.ts";
import { postGrant, rawGrant, rsaKey } from "../support/grants.ts";

const YEAR = 365 * 86_400;
let nowSeconds = 1_760_000_000;
let emu: MaskinportenEmulator;
const admin = rsaKey("admin-key");
const keys = Array.from({ length: 6 }, (_, i) => rsaKey(`k${i}`).jwk);

beforeAll(async () => {
  emu = await startMaskinportenEmulator({ now: () => nowSeconds * 1000 });
  const self = ["idporten:dcr.read", "idporten:dcr.write"];
  emu.registerClient({
    clientId: "admin",
    orgNumber: "974760673",
    jwks: [admin.jwk],
    scopes: [...self, "read:only"],
  });
  emu.registerClient({
    clientId: "reader",
    orgNumber: "974760673",
    jwks: [admin.jwk],
    scopes: ["idporten:dcr.read"],
  });
  emu.registerClient({
    clientId: "target",
    orgNumber: "974760673",
    jwks: keys.slice(0, 1),
    scopes: ["x"],
  });
  emu.registerClient({ clientId: "foreign", orgNumber: "910000000", jwks: [], scopes: ["x"] });
});
afterAll(() => emu.close());

async function token(clientId: string, scope: string): Promise<string> {
  const grant = await rawGrant(
    admin.privateKey,
    { alg: "RS256", kid: "admin-key" },
    { aud: emu.issuer, iss: clientId, scope, iat: nowSeconds, exp: nowSeconds + 30, jti: randomUUID() },
  );
  const answer = await postGrant(emu.tokenUrl, grant);
  expect(answer.status).toBe(200);
  return answer.body.access_token as string;
}

async function call(method: string, clientId: string, bearer: string | undefined, body?: unknown) {
  const response = await fetch(`${emu.url}api/v1/clients/${clientId}/jwks`, {
    method,
    headers: {
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    body: (await response.json()) as { keys?: { kid: string; exp: number }[] },
  };
}

describe("emulated self-service API", () => {
  it("answers the set with each key's exp, one year from registration", async () => {
    const { status, body } = await call("GET", "target", await token("admin", "idporten:dcr.read"));
    expect(status).toBe(200);
    expect(body.keys).toEqual([expect.objectContaining({ kid: "k0", kty: "RSA", exp: nowSeconds + YEAR })]);
  });

  it("checks the admin token: present, issued by the emulator, unexpired, with the method's scope", async () => {
    expect((await call("GET", "target", undefined)).status).toBe(401);
    expect((await call("GET", "target", "not-a-token")).status).toBe(401);
    const reader = await token("reader", "idporten:dcr.read");
    const post = await call("POST", "target", reader, { keys: [keys[1]] });
    expect(post).toMatchObject({ status: 403, body: { error: "insufficient_scope" } });
    const writeOnly = await token("admin", "idporten:dcr.write");
    expect((await call("GET", "target", writeOnly)).status).toBe(403);
    const stale = await token("admin", "idporten:dcr.read");
    nowSeconds += 121;
    expect((await call("GET", "target", stale)).status).toBe(401);
    expect(emu.adminRequests.at(-1)).toMatchObject({
      method: "GET",
      clientId: "target",
      scopes: [],
      status: 401,
    });
  });

  it("refuses another organisation's client", async () => {
    const { status } = await call("GET", "foreign", await token("admin", "idporten:dcr.read"));
    expect(status).toBe(403);
  });

  it("replaces the whole set on POST: at most 5 keys, never empty, exp at most a year ahead (a shorter one kept)", async () => {
    const write = await token("admin", "idporten:dcr.write");
    expect((await call("POST", "target", write, { keys: keys.slice(0, 6) })).status).toBe(400);
    expect((await call("POST", "target", write, { keys: [] })).status).toBe(400);
    expect(
      (await call("POST", "target", write, { keys: [{ ...keys[1], exp: nowSeconds + YEAR + 1 }] })).status,
    ).toBe(400);
    expect((await call("POST", "target", write, { keys: [{ ...keys[1], d: "private" }] })).status).toBe(400);
    const shorter = nowSeconds + 10 * 86_400;
    const posted = await call("POST", "target", write, { keys: [{ ...keys[1], exp: shorter }, keys[2]] });
    expect(posted.status).toBe(200);
    expect(posted.body.keys?.map((k) => [k.kid, k.exp])).toEqual([
      ["k1", shorter],
      ["k2", nowSeconds + YEAR],
    ]);
    expect(emu.registeredKeys("target")).toEqual([
      { kid: "k1", exp: shorter },
      { kid: "k2", exp: nowSeconds + YEAR },
    ]);
  });

  it("removes every key on DELETE", async () => {
    const write = await token("admin", "idporten:dcr.write");
    expect((await call("DELETE", "target", write)).status).toBe(200);
    expect(emu.registeredKeys("target")).toEqual([]);
  });
});
