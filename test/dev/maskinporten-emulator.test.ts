import { generateKeyPairSync, randomUUID } from "node:crypto";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MaskinportenEmulator, startMaskinportenEmulator } from "../../dev/maskinporten-emulator.ts";
import { JWT_BEARER, postGrant, rawGrant, rsaKey } from "../support/grants.ts";

const NOW = 1_760_000_000;
const CLIENT = "client-a";
const CLIENT_ORG = "974760673";
const CONSUMER = "910000000";
const SYSTEM_USER_ORG = "310000001";

let emu: MaskinportenEmulator;
let key: ReturnType<typeof rsaKey>;
let otherKey: ReturnType<typeof rsaKey>;

beforeAll(async () => {
  emu = await startMaskinportenEmulator({ now: () => NOW * 1000 + 400, expiresIn: 99 });
  key = rsaKey("key-1");
  otherKey = rsaKey("key-2");
  emu.registerClient({
    clientId: CLIENT,
    orgNumber: CLIENT_ORG,
    jwks: [key.jwk],
    scopes: ["skatteetaten:mva", "nav:aareg", "altinn:x"],
    delegations: [{ consumerOrg: CONSUMER, scopes: ["skatteetaten:mva"] }],
    systemUsers: [{ orgNumber: SYSTEM_USER_ORG, scopes: ["altinn:x"], id: "su-1" }],
  });
});
afterAll(() => emu.close());

const claims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  aud: emu.issuer,
  iss: CLIENT,
  scope: "skatteetaten:mva",
  iat: NOW,
  exp: NOW + 30,
  jti: randomUUID(),
  ...overrides,
});

const send = async (overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  postGrant(
    emu.tokenUrl,
    await rawGrant(key.privateKey, { alg: "RS256", kid: "key-1", ...header }, claims(overrides)),
  );

const refusal = (error: string, mpCode: string) => ({
  status: 400,
  body: { error, error_description: expect.stringContaining(mpCode) },
});

describe("Maskinporten emulator", () => {
  it("publishes its issuer with a trailing slash and the token endpoint beneath it", async () => {
    expect(emu.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(emu.tokenUrl).toBe(`${emu.issuer}token`);
    const meta = (await (await fetch(`${emu.url}.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(meta).toMatchObject({ issuer: emu.issuer, token_endpoint: emu.tokenUrl });
  });

  it("accepts a good grant and issues a signed token with Maskinporten's claim shape", async () => {
    const before = emu.acceptedGrants.length;
    const answer = await send({ scope: "skatteetaten:mva nav:aareg" });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      token_type: "Bearer",
      expires_in: 99,
      scope: "skatteetaten:mva nav:aareg",
    });
    const jwks = createRemoteJWKSet(new URL(`${emu.url}jwk`));
    const { payload } = await jwtVerify(String(answer.body.access_token), jwks, {
      issuer: emu.issuer,
      currentDate: new Date(NOW * 1000),
    });
    expect(payload).toMatchObject({
      iss: emu.issuer,
      client_id: CLIENT,
      scope: "skatteetaten:mva nav:aareg",
      consumer: { authority: "iso6523-actorid-upis", ID: `0192:${CLIENT_ORG}` },
      iat: NOW,
      exp: NOW + 99,
    });
    expect(payload.supplier).toBeUndefined();
    expect(payload.jti).toEqual(expect.any(String));
    expect(emu.acceptedGrants.length).toBe(before + 1);
  });

  it("sets a Date header from its own clock", async () => {
    const response = await fetch(`${emu.url}jwk`);
    expect(Date.parse(response.headers.get("date") ?? "")).toBe(NOW * 1000);
  });

  it("issues a delegated token with consumer and supplier, and an audience-restricted one", async () => {
    const jwks = createRemoteJWKSet(new URL(`${emu.url}jwk`));
    const delegated = await send({ consumer_org: CONSUMER });
    expect(delegated.status).toBe(200);
    const { payload } = await jwtVerify(String(delegated.body.access_token), jwks, {
      currentDate: new Date(NOW * 1000),
    });
    expect(payload.consumer).toEqual({ authority: "iso6523-actorid-upis", ID: `0192:${CONSUMER}` });
    expect(payload.supplier).toEqual({ authority: "iso6523-actorid-upis", ID: `0192:${CLIENT_ORG}` });

    const restricted = await send({ resource: ["https://api.example.no/"] });
    const { payload: aud } = await jwtVerify(String(restricted.body.access_token), jwks, {
      audience: "https://api.example.no/",
      currentDate: new Date(NOW * 1000),
    });
    expect(aud.aud).toBe("https://api.example.no/");
  });

  it("issues a system-user token with authorization_details", async () => {
    const answer = await send({
      scope: "altinn:x",
      authorization_details: [
        {
          type: "urn:altinn:systemuser",
          systemuser_org: { authority: "iso6523-actorid-upis", ID: `0192:${SYSTEM_USER_ORG}` },
        },
      ],
    });
    expect(answer.status).toBe(200);
    const { payload } = await jwtVerify(
      String(answer.body.access_token),
      createRemoteJWKSet(new URL(`${emu.url}jwk`)),
      {
        currentDate: new Date(NOW * 1000),
      },
    );
    expect(payload.authorization_details).toEqual([
      expect.objectContaining({ type: "urn:altinn:systemuser", systemuser_id: ["su-1"] }),
    ]);
  });

  it.each([
    ["a wrong aud", { aud: "https://test.maskinporten.no/" }, "invalid_grant", "MP-110"],
    ["the token endpoint as aud", { aud: "TOKEN_URL" }, "invalid_grant", "MP-110"],
    ["an expired grant", { iat: NOW - 300, exp: NOW - 270 }, "invalid_grant", "MP-130"],
    ["exp - iat over 120 s", { iat: NOW, exp: NOW + 121 }, "invalid_grant", "MP-130"],
    ["iat in the future beyond the skew", { iat: NOW + 30, exp: NOW + 60 }, "invalid_grant", "MP-130"],
    ["an unknown client", { iss: "nobody" }, "invalid_grant", "MP-100"],
    ["an unregistered scope", { scope: "skatteetaten:mva skatteetaten:secret" }, "invalid_scope", "MP-200"],
    ["a delegation not granted", { consumer_org: "123456785" }, "invalid_scope", "MP-251"],
    [
      "a delegated scope not granted",
      { consumer_org: CONSUMER, scope: "nav:aareg" },
      "invalid_scope",
      "MP-251",
    ],
    ["consumer_org equal to the client's own org", { consumer_org: CLIENT_ORG }, "invalid_request", "MP-011"],
    ["an unlisted claim", { sub: CLIENT }, "invalid_request", "MP-011"],
    ["resource as a plain string", { resource: "https://api.example.no/" }, "invalid_request", "MP-011"],
    [
      "a system user that does not exist",
      {
        authorization_details: [
          {
            type: "urn:altinn:systemuser",
            systemuser_org: { authority: "iso6523-actorid-upis", ID: "0192:999999999" },
          },
        ],
      },
      "invalid_authorization_details",
      "MP-302",
    ],
    [
      "malformed authorization_details",
      { authorization_details: [{ type: "x" }] },
      "invalid_authorization_details",
      "MP-301",
    ],
  ])("refuses %s", async (_name, overrides, error, mpCode) => {
    const fixed: Record<string, unknown> =
      "aud" in overrides && overrides.aud === "TOKEN_URL" ? { ...overrides, aud: emu.tokenUrl } : overrides;
    expect(await send(fixed)).toEqual(refusal(error, mpCode));
  });

  it("refuses a replayed jti, even with a fresh signature", async () => {
    const jti = randomUUID();
    expect((await send({ jti })).status).toBe(200);
    expect(await send({ jti })).toEqual(refusal("invalid_grant", "MP-012"));
  });

  it("refuses a grant signed with another key under a registered kid", async () => {
    const assertion = await rawGrant(otherKey.privateKey, { alg: "RS256", kid: "key-1" }, claims());
    expect(await postGrant(emu.tokenUrl, assertion)).toEqual(refusal("invalid_grant", "MP-124"));
  });

  it("refuses an unregistered kid", async () => {
    const assertion = await rawGrant(otherKey.privateKey, { alg: "RS256", kid: "key-2" }, claims());
    expect(await postGrant(emu.tokenUrl, assertion)).toEqual(refusal("invalid_grant", "MP-120"));
  });

  it("refuses a tampered payload", async () => {
    const [h, , s] = (await rawGrant(key.privateKey, { alg: "RS256", kid: "key-1" }, claims())).split(".");
    const forged = Buffer.from(JSON.stringify(claims({ scope: "nav:aareg" }))).toString("base64url");
    expect(await postGrant(emu.tokenUrl, `${h}.${forged}.${s}`)).toEqual(refusal("invalid_grant", "MP-124"));
  });

  it("refuses any alg but RS256/384/512", async () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const assertion = await rawGrant(ec.privateKey, { alg: "ES256", kid: "key-1" }, claims());
    expect(await postGrant(emu.tokenUrl, assertion)).toEqual(refusal("invalid_grant", "MP-124"));
    expect((await send({}, { alg: "RS512" })).status).toBe(200);
  });

  it("refuses a header with both kid and x5c, or neither", async () => {
    expect(await send({}, { x5c: ["AAAA"] })).toEqual(refusal("invalid_request", "MP-011"));
    const assertion = await rawGrant(key.privateKey, { alg: "RS256" }, claims());
    expect(await postGrant(emu.tokenUrl, assertion)).toEqual(refusal("invalid_request", "MP-011"));
  });

  it("refuses a wrong grant_type, a missing assertion and a non-form body", async () => {
    const post = async (body: string, type = "application/x-www-form-urlencoded") => {
      const response = await fetch(emu.tokenUrl, { method: "POST", headers: { "content-type": type }, body });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect((await post("grant_type=client_credentials&assertion=x")).body.error).toBe(
      "unsupported_grant_type",
    );
    expect(await post(`grant_type=${encodeURIComponent(JWT_BEARER)}`)).toEqual(
      refusal("invalid_request", "MP-011"),
    );
    expect(await post(`grant_type=${encodeURIComponent(JWT_BEARER)}&assertion=not.a.jwt`)).toEqual(
      refusal("invalid_request", "MP-011"),
    );
    const json = await post(JSON.stringify({ grant_type: JWT_BEARER }), "application/json");
    expect(json).toEqual(refusal("invalid_request", "MP-011"));
  });

  it("counts every grant received, and records the jti of each", async () => {
    const before = emu.grantsReceived;
    const jti = randomUUID();
    await send({ jti, aud: "wrong" });
    expect(emu.grantsReceived).toBe(before + 1);
    expect(emu.requests.at(-1)).toEqual({ jti, outcome: 400 });
  });
});

describe("Maskinporten emulator faults", () => {
  it("applies queued faults one per request, in order, then behaves normally", async () => {
    emu.injectFault(
      { type: "status", status: 503, retryAfter: "2" },
      { type: "non-json" },
      { type: "malformed-json" },
      { type: "missing-expires-in" },
    );
    const raw = async () => {
      const assertion = await rawGrant(key.privateKey, { alg: "RS256", kid: "key-1" }, claims());
      return fetch(emu.tokenUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }),
      });
    };
    const unavailable = await raw();
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get("retry-after")).toBe("2");
    expect(((await unavailable.json()) as { error: string }).error).toBe("server_error");
    const html = await raw();
    expect([html.status, html.headers.get("content-type")]).toEqual([200, "text/html"]);
    await html.text();
    const truncated = await raw();
    await expect(truncated.json()).rejects.toThrow();
    const noLifetime = (await (await raw()).json()) as Record<string, unknown>;
    expect(noLifetime.access_token).toEqual(expect.any(String));
    expect(noLifetime).not.toHaveProperty("expires_in");
    expect((await raw()).status).toBe(200);
  });

  it("drops the connection without an answer", async () => {
    emu.injectFault({ type: "drop" });
    await expect(send()).rejects.toThrow();
    expect(emu.requests.at(-1)?.outcome).toBe("dropped");
  });

  it("delays, then answers normally; clearFaults empties the queue", async () => {
    emu.injectFault({ type: "delay", ms: 50 });
    expect((await send()).status).toBe(200);
    expect(emu.requests.at(-1)?.fault).toBe("delay");
    emu.injectFault({ type: "status", status: 500 });
    emu.clearFaults();
    expect((await send()).status).toBe(200);
  });
});
