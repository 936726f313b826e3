import { createPublicKey, randomUUID, sign } from "node:crypto";
import fc from "fast-check";
import { compactVerify, exportJWK } from "jose";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
// The strict peer's list, kept apart from the code under test: a grant may only use claims it accepts.
import { parseAuthorizationDetails } from "../../dev/emulator/authorization-details.ts";
import {
  ALLOWED_GRANT_CLAIMS,
  GrantClaimsSchema,
  MAX_GRANT_LIFETIME_SECONDS,
} from "../../dev/emulator/grant-check.ts";
import { buildGrantClaims, GRANT_LIFETIME_SECONDS, signGrant } from "../../lib/grant/index.ts";
import type { KeyHeader, SigningKey } from "../../lib/signer/signer.ts";
import { PID_A, PID_B } from "../support/pid.ts";
import { asParsed } from "../support/request.ts";
import { newKey } from "../support/signer.ts";

const params = {
  issuer: "https://test.maskinporten.no/",
  clientId: "client-1",
  now: 1_700_000_000.7,
  jti: randomUUID(),
};

describe("buildGrantClaims", () => {
  it("sets aud to the issuer exactly, iss to the client id, exp 30 s after a whole-second iat", () => {
    const claims = buildGrantClaims(asParsed({ scopes: ["skatteetaten:mva", "nav:x"] }), params);
    expect(claims).toEqual({
      aud: "https://test.maskinporten.no/",
      iss: "client-1",
      scope: "skatteetaten:mva nav:x",
      iat: 1_700_000_000,
      exp: 1_700_000_030,
      jti: params.jti,
    });
  });

  it("sends resource as an array, consumer_org, and the Altinn system-user authorization_details", () => {
    expect(
      buildGrantClaims(asParsed({ scopes: ["a"], resource: ["https://api.example.no/"] }), params).resource,
    ).toEqual(["https://api.example.no/"]);
    expect(buildGrantClaims(asParsed({ scopes: ["a"], consumerOrg: "974760673" }), params).consumer_org).toBe(
      "974760673",
    );
    expect(
      buildGrantClaims(asParsed({ scopes: ["a"], systemuserOrg: "974760673" }), params).authorization_details,
    ).toEqual([
      {
        type: "urn:altinn:systemuser",
        systemuser_org: { authority: "iso6523-actorid-upis", ID: "0192:974760673" },
      },
    ]);
  });

  it("carries the pid of an end-user-restricted request, and nothing of the exchange (Altinn's business, not Maskinporten's)", () => {
    const claims = buildGrantClaims(asParsed({ scopes: ["a"], pid: PID_A, exchange: "altinn" }), params);
    expect(claims.pid).toBe(PID_A);
    expect(Object.keys(claims).sort()).toEqual(["aud", "exp", "iat", "iss", "jti", "pid", "scope"]);
    expect(buildGrantClaims(asParsed({ scopes: ["a"] }), params)).not.toHaveProperty("pid");
  });

  it("an empty resource list gives no resource claim (Maskinporten refuses resource: [])", () => {
    const claims = buildGrantClaims(asParsed({ scopes: ["a"], resource: [] }), params);
    expect(claims).not.toHaveProperty("resource");
    expect(Object.keys(claims).sort()).toEqual(["aud", "exp", "iat", "iss", "jti", "scope"]);
  });

  it("sends a system user's externalRef, a consent with the party's URN, and iss_onbehalfof", () => {
    const su = asParsed({ scopes: ["a"], systemuserOrg: "974760673", systemuserExternalRef: "avd-1" });
    expect(buildGrantClaims(su, params).authorization_details).toEqual([
      {
        type: "urn:altinn:systemuser",
        systemuser_org: { authority: "iso6523-actorid-upis", ID: "0192:974760673" },
        externalRef: "avd-1",
      },
    ]);
    const id = "77ed8698-e619-4066-9eb4-5c1eb3f165a1";
    expect(
      buildGrantClaims(asParsed({ scopes: ["a"], consent: { id, from: PID_A } }), params)
        .authorization_details,
    ).toEqual([{ type: "urn:altinn:consent", id, from: `urn:altinn:person:identifier-no:${PID_A}` }]);
    const org = buildGrantClaims(
      asParsed({ scopes: ["a"], consent: { id, from: "991825827" }, consumerOrg: "974760673" }),
      params,
    );
    expect(org.authorization_details).toEqual([
      { type: "urn:altinn:consent", id, from: "urn:altinn:organization:identifier-no:991825827" },
    ]);
    expect(org.consumer_org).toBe("974760673");
    const onbehalfof = buildGrantClaims(asParsed({ scopes: ["a"], onbehalfof: "kunde-1" }), params);
    expect(onbehalfof.iss_onbehalfof).toBe("kunde-1");
    expect(Object.keys(onbehalfof).sort()).toEqual([
      "aud",
      "exp",
      "iat",
      "iss",
      "iss_onbehalfof",
      "jti",
      "scope",
    ]);
  });

  it("never emits a claim Maskinporten does not list, and exp - iat stays within 1..120", () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z:/]{1,20}$/), { minLength: 1, maxLength: 5 }),
        fc.option(fc.constantFrom("974760673", "910000000")),
        fc.option(fc.constantFrom(PID_A, PID_B)),
        fc.oneof(
          fc.constant({}),
          fc.record(
            {
              systemuserOrg: fc.constantFrom("974760673"),
              systemuserExternalRef: fc.constantFrom("avd-1", "x/y:z"),
            },
            { requiredKeys: ["systemuserOrg"] },
          ),
          fc.record({ consent: fc.record({ id: fc.uuid(), from: fc.constantFrom(PID_A, "991825827") }) }),
        ),
        fc.option(fc.constantFrom("kunde-1", "a.b_c")),
        fc.double({ min: 0, max: 4e9, noNaN: true }),
        (scopes, org, pid, altinn, onbehalfof, now) => {
          const claims = buildGrantClaims(
            asParsed({
              scopes,
              ...(org === null ? {} : { consumerOrg: org }),
              ...(pid === null ? {} : { pid, exchange: "altinn" as const }),
              ...altinn,
              ...(onbehalfof === null ? {} : { onbehalfof }),
            }),
            { ...params, now },
          );
          expect(Object.keys(claims).every((k) => ALLOWED_GRANT_CLAIMS.has(k))).toBe(true);
          // Each claim has the shape Maskinporten checks: the emulator's own parsers accept it.
          expect(v.safeParse(GrantClaimsSchema, claims).issues).toBeUndefined();
          if (claims.authorization_details !== undefined) {
            expect(() => parseAuthorizationDetails(claims.authorization_details)).not.toThrow();
          }
          expect(claims.exp - claims.iat).toBe(GRANT_LIFETIME_SECONDS);
          expect(claims.exp - claims.iat).toBeLessThanOrEqual(MAX_GRANT_LIFETIME_SECONDS);
        },
      ),
    );
  });
});

describe("signGrant", () => {
  const privateKey = newKey();
  const keyWith = async (header: KeyHeader): Promise<SigningKey> => ({
    alg: "RS256",
    header,
    jwk: { ...(await exportJWK(createPublicKey(privateKey))), kid: "k1", alg: "RS256", use: "sig" },
    keyRef: "file:test#k1",
    sign: async (input) => sign("sha256", input, privateKey),
  });

  it.each<[string, KeyHeader]>([
    ["a kid", { kid: "k1" }],
    ["a certificate chain", { x5c: ["MIIB"] }],
  ])("is a compact JWS its public key verifies, whose header names the key by %s", async (_name, header) => {
    const key = await keyWith(header);
    const claims = buildGrantClaims(asParsed({ scopes: ["skatteetaten:mva"] }), params);
    const jws = await signGrant(key, claims);
    expect(jws.split(".")).toHaveLength(3);
    const { protectedHeader, payload } = await compactVerify(jws, createPublicKey(privateKey));
    expect(protectedHeader).toEqual({ alg: "RS256", ...header });
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(claims);
  });
});
