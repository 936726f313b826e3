import { generateKeyPairSync, randomUUID } from "node:crypto";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MaskinportenEmulator, startMaskinportenEmulator } from "../../dev/maskinporten-emulator.ts";
import { JWT_BEARER, postGrant, rawGrant, rsaKey } from "../support/grants.ts";
import { PID_A, PID_B } from "../support/pid.ts";

const NOW = 1_760_000_000;
const CLIENT = "client-a";
const CLIENT_ORG = "974760673";
const CONSUMER = "910000000";
const SYSTEM_USER_ORG = "310000001";
/** An organisation with two system users for the client's system, told apart by externalRef. */
const TWO_USERS_ORG = "310000027";
/** An organisation whose one system user was created with an externalRef. */
const REF_USER_ORG = "310000035";
const PERSON = PID_A;
const CONSENT_ID = "77ed8698-e619-4066-9eb4-5c1eb3f165a1";
const ORG_CONSENT_ID = "b55b0a8c-46db-4239-a417-a89daabfabba";
const EXPIRED_CONSENT_ID = "93413201-b7e8-4ec3-a899-580fc02c6aeb";
const DELEGATED_CONSENT_ID = "ecbff842-199b-45c9-8b58-80ed4d813660";

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
    systemUsers: [
      { orgNumber: SYSTEM_USER_ORG, id: "su-1" },
      { orgNumber: TWO_USERS_ORG, externalRef: "avd-1", id: "su-2" },
      { orgNumber: TWO_USERS_ORG, externalRef: "avd-2", id: "su-3" },
      { orgNumber: REF_USER_ORG, externalRef: "kunde-7", id: "su-4" },
    ],
    consents: [
      {
        id: CONSENT_ID,
        from: PERSON,
        scopes: ["skatteetaten:mva"],
        consented: "2026-01-15T10:34:39.676924+00:00",
        validTo: "2099-01-01T00:00:00+00:00",
        resource: "standard-samtykke-for-dele-data",
        metadata: { inntektsaar: "2025" },
      },
      {
        id: ORG_CONSENT_ID,
        from: CONSUMER,
        scopes: ["skatteetaten:mva"],
        validTo: "2099-01-01T00:00:00Z",
        resource: "r",
      },
      {
        id: EXPIRED_CONSENT_ID,
        from: PERSON,
        scopes: ["skatteetaten:mva"],
        validTo: "2020-01-01T00:00:00Z",
        resource: "r",
      },
      {
        id: DELEGATED_CONSENT_ID,
        from: PERSON,
        to: CONSUMER,
        scopes: ["skatteetaten:mva"],
        validTo: "2099-01-01T00:00:00Z",
        resource: "r",
      },
    ],
    onbehalfof: ["kunde-1"],
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

  const systemUser = (org: string, externalRef?: string) => ({
    scope: "altinn:x",
    authorization_details: [
      {
        type: "urn:altinn:systemuser",
        systemuser_org: { authority: "iso6523-actorid-upis", ID: `0192:${org}` },
        ...(externalRef === undefined ? {} : { externalRef }),
      },
    ],
  });
  const tokenClaims = async (answer: Awaited<ReturnType<typeof send>>) =>
    (
      await jwtVerify(String(answer.body.access_token), createRemoteJWKSet(new URL(`${emu.url}jwk`)), {
        currentDate: new Date(NOW * 1000),
      })
    ).payload;

  it("finds a system user by organisation and externalRef, and never returns the externalRef", async () => {
    for (const [ref, id] of [
      ["avd-1", "su-2"],
      ["avd-2", "su-3"],
    ] as const) {
      const answer = await send(systemUser(TWO_USERS_ORG, ref));
      expect(answer.status).toBe(200);
      const details = (await tokenClaims(answer)).authorization_details;
      expect(details).toEqual([expect.objectContaining({ systemuser_id: [id] })]);
      expect(JSON.stringify(details)).not.toContain(ref);
    }
    expect((await send(systemUser(REF_USER_ORG, "kunde-7"))).status).toBe(200);
    // Created without one, a system user's externalRef is its organisation number.
    expect((await send(systemUser(SYSTEM_USER_ORG, SYSTEM_USER_ORG))).status).toBe(200);
  });

  it.each([
    ["several system users and no externalRef", TWO_USERS_ORG, undefined, /several system users/],
    [
      "a system user created with an externalRef, asked without",
      REF_USER_ORG,
      undefined,
      /send its externalRef/,
    ],
    ["an unknown externalRef", TWO_USERS_ORG, "avd-3", /with that externalRef/],
    ["an organisation without a system user", "999999999", undefined, /No system user/],
  ])("refuses %s with MP-303 invalid_altinn_customer_configuration", async (_name, org, ref, text) => {
    const answer = await send(systemUser(org, ref));
    expect(answer).toEqual(refusal("invalid_altinn_customer_configuration", "MP-303"));
    expect(String(answer.body.error_description)).toMatch(text);
  });

  it("issues no system-user refusal for a scope: the system user's rights are for the API to check", async () => {
    expect((await send({ ...systemUser(SYSTEM_USER_ORG), scope: "skatteetaten:mva" })).status).toBe(200);
  });

  const consent = (id: string, from: string) => ({
    authorization_details: [
      {
        type: "urn:altinn:consent",
        id,
        from:
          from.length === 11
            ? `urn:altinn:person:identifier-no:${from}`
            : `urn:altinn:organization:identifier-no:${from}`,
      },
    ],
  });

  it("issues a consent token with to, consented, validTo and consentRights", async () => {
    const answer = await send(consent(CONSENT_ID, PERSON));
    expect(answer.status).toBe(200);
    const claims = await tokenClaims(answer);
    expect(claims.authorization_details).toEqual([
      {
        type: "urn:altinn:consent",
        id: CONSENT_ID,
        from: `urn:altinn:person:identifier-no:${PERSON}`,
        to: { authority: "iso6523-actorid-upis", ID: `0192:${CLIENT_ORG}` },
        consented: "2026-01-15T10:34:39.676924+00:00",
        validTo: "2099-01-01T00:00:00+00:00",
        consentRights: [
          {
            action: ["consent"],
            resource: [{ type: "urn:altinn:resource", value: "standard-samtykke-for-dele-data" }],
            metadata: { inntektsaar: "2025" },
          },
        ],
      },
    ]);
    expect(claims.consumer).toEqual({ authority: "iso6523-actorid-upis", ID: `0192:${CLIENT_ORG}` });
    const org = await tokenClaims(await send(consent(ORG_CONSENT_ID, CONSUMER)));
    expect(org.authorization_details).toEqual([
      expect.objectContaining({ from: `urn:altinn:organization:identifier-no:${CONSUMER}` }),
    ]);
  });

  it("issues a consent given to a consumer through its delegation, with supplier", async () => {
    const claims = await tokenClaims(
      await send({ ...consent(DELEGATED_CONSENT_ID, PERSON), consumer_org: CONSUMER }),
    );
    expect(claims.authorization_details).toEqual([
      expect.objectContaining({ to: { authority: "iso6523-actorid-upis", ID: `0192:${CONSUMER}` } }),
    ]);
    expect(claims.supplier).toEqual({ authority: "iso6523-actorid-upis", ID: `0192:${CLIENT_ORG}` });
  });

  it.each([
    ["an unknown consent", consent("0a7d59f8-8c62-4312-9fb4-62456664c96f", PERSON), /not found/],
    ["a consent from another person", consent(CONSENT_ID, PID_B), /not given by that party/],
    ["an expired consent", consent(EXPIRED_CONSENT_ID, PERSON), /expired/],
    [
      "a consent given to another organisation",
      consent(DELEGATED_CONSENT_ID, PERSON),
      /not given to the consumer/,
    ],
    [
      "a scope the consent does not cover",
      { ...consent(CONSENT_ID, PERSON), scope: "nav:aareg" },
      /does not cover/,
    ],
  ])(
    "refuses %s with invalid_authorization_details MP-302, never repeating the pid",
    async (_name, overrides, text) => {
      const answer = await send(overrides);
      expect(answer).toEqual(refusal("invalid_authorization_details", "MP-302"));
      expect(String(answer.body.error_description)).toMatch(text);
      expect(JSON.stringify(answer.body)).not.toMatch(/\d{11}/);
    },
  );

  it("takes a registered iss_onbehalfof, and refuses an unknown one or one with consumer_org", async () => {
    expect((await send({ iss_onbehalfof: "kunde-1" })).status).toBe(200);
    expect(emu.acceptedGrants.at(-1)?.iss_onbehalfof).toBe("kunde-1");
    expect(await send({ iss_onbehalfof: "kunde-2" })).toEqual(refusal("invalid_request", "MP-011"));
    expect(await send({ iss_onbehalfof: "kunde-1", consumer_org: CONSUMER })).toEqual(
      refusal("invalid_request", "MP-011"),
    );
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
      "invalid_altinn_customer_configuration",
      "MP-303",
    ],
    [
      "an unknown authorization_details type",
      { authorization_details: [{ type: "x" }] },
      "invalid_authorization_details",
      "MP-301",
    ],
    [
      "an unknown field in authorization_details",
      {
        authorization_details: [{ ...consent(CONSENT_ID, PERSON).authorization_details[0], to: CLIENT_ORG }],
      },
      "invalid_authorization_details",
      "MP-302",
    ],
    [
      "two authorization_details entries",
      {
        authorization_details: [
          ...consent(CONSENT_ID, PERSON).authorization_details,
          ...consent(ORG_CONSENT_ID, CONSUMER).authorization_details,
        ],
      },
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
