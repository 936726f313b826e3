// System users with externalRef, Altinn consent tokens and iss_onbehalfof through the token handler and the emulator:
// what the grant says, what Maskinporten's token says, what the audit says, and that no consent's pid is ever logged.
import { createHmac } from "node:crypto";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBroker } from "../../lib/broker/index.ts";
import { ConfigError } from "../../lib/config/config-error.ts";
import { loadConfig } from "../../lib/config/index.ts";
import {
  ACCOUNT,
  type ControlledBroker,
  roleCaller,
  startControlledBroker,
  tokenEvent,
} from "../support/broker-fixture.ts";
import { type CapturedOutput, captureOutput } from "../support/output.ts";
import { PID_A, PID_B } from "../support/pid.ts";
import { keyDirectory } from "../support/signer.ts";

const SCOPE = "skatteetaten:inntektsmottak";
const CLIENT_ORG = "974760673";
/** The bank's customer organisation (a consent from an organisation), and an accountant's customer. */
const CUSTOMER_ORG = "991825827";
/** An organisation with two system users for the broker's system, told apart by externalRef. */
const SYSTEM_USER_ORG = "310000027";
const PERSON_CONSENT = "77ed8698-e619-4066-9eb4-5c1eb3f165a1";
const ORG_CONSENT = "b55b0a8c-46db-4239-a417-a89daabfabba";
const PSEUDONYM_KEY = "e3b98a4da31a127d4bde6e43033f66ba274cab0eb7eb1c70ec41402bf6273dd8";
const pseudonymOf = (pid: string) => createHmac("sha256", PSEUDONYM_KEY).update(pid).digest("hex");
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const POLICY = {
  rules: [
    {
      principal: role("accounting-svc"),
      scopes: ["altinn:x"],
      systemuser_orgs: [SYSTEM_USER_ORG],
      systemuser_external_refs: ["avd-1", "avd-2"],
    },
    // Without systemuser_external_refs: the same organisation, asked for without an externalRef.
    { principal: role("accounting-svc"), scopes: ["altinn:x"], systemuser_orgs: [SYSTEM_USER_ORG] },
    // Only with an externalRef: no second rule lets this principal leave it out.
    {
      principal: role("branch-svc"),
      scopes: ["altinn:x"],
      systemuser_orgs: [SYSTEM_USER_ORG],
      systemuser_external_refs: ["avd-1"],
    },
    { principal: role("bank-svc"), scopes: [SCOPE], consent: true },
    { principal: role("krr-svc"), scopes: [SCOPE], onbehalfofs: ["kunde-1"] },
  ],
};
const VALID_TO = "2099-01-01T00:00:00+00:00";

let fixture: ControlledBroker;
let keys: Awaited<ReturnType<typeof keyDirectory>>;
let output: CapturedOutput;
const answers = new Map<string, { status: number; body: Record<string, unknown>; requestId: string }>();

async function call(name: string, caller: string, body: Record<string, unknown>): Promise<void> {
  const event = tokenEvent(body, { identity: roleCaller(caller) });
  const response = await fixture.call(event);
  answers.set(name, {
    status: response.statusCode,
    body: JSON.parse(response.body) as Record<string, unknown>,
    requestId: event.requestContext.requestId,
  });
}
const answer = (name: string) => answers.get(name) ?? { status: 0, body: {}, requestId: "" };
const claimsOf = (name: string) => decodeJwt(String(answer(name).body.access_token));
const recordOf = (name: string) =>
  output.json().find((line) => typeof line.event === "string" && line.request_id === answer(name).requestId);

beforeAll(async () => {
  keys = await keyDirectory();
  const keyPath = await keys.write("pid-pseudonym.key", PSEUDONYM_KEY);
  fixture = await startControlledBroker({
    env: { POLICY: JSON.stringify(POLICY), PID_PSEUDONYM_KEY: `file:${keyPath}` },
  });
  fixture.emulator.registerClient({
    clientId: "broker-client",
    orgNumber: CLIENT_ORG,
    jwks: [(await fixture.signer.current()).jwk],
    scopes: [SCOPE, "altinn:x"],
    systemUsers: [
      { orgNumber: SYSTEM_USER_ORG, externalRef: "avd-1", id: "su-1" },
      { orgNumber: SYSTEM_USER_ORG, externalRef: "avd-2", id: "su-2" },
    ],
    consents: [
      { id: PERSON_CONSENT, from: PID_A, scopes: [SCOPE], validTo: VALID_TO, resource: "skd-inntekt" },
      { id: ORG_CONSENT, from: CUSTOMER_ORG, scopes: [SCOPE], validTo: VALID_TO, resource: "skd-inntekt" },
    ],
    onbehalfof: ["kunde-1"],
  });
  const systemUser = { scope: "altinn:x", systemuser_org: SYSTEM_USER_ORG };
  output = captureOutput();
  try {
    await call("externalRef", "accounting-svc", { ...systemUser, systemuser_external_ref: "avd-2" });
    await call("no externalRef", "accounting-svc", systemUser);
    await call("unlisted externalRef", "accounting-svc", { ...systemUser, systemuser_external_ref: "avd-3" });
    await call("externalRef required", "branch-svc", systemUser);
    await call("person consent", "bank-svc", { scope: SCOPE, consent: { id: PERSON_CONSENT, from: PID_A } });
    await call("org consent", "bank-svc", { scope: SCOPE, consent: { id: ORG_CONSENT, from: CUSTOMER_ORG } });
    await call("other person", "bank-svc", { scope: SCOPE, consent: { id: PERSON_CONSENT, from: PID_B } });
    // Denied for the consent alone (the rule allows the rest), and by no rule at all.
    await call("consent denied", "krr-svc", {
      scope: SCOPE,
      onbehalfof: "kunde-1",
      consent: { id: PERSON_CONSENT, from: PID_A },
    });
    await call("consent stranger", "stranger-svc", {
      scope: SCOPE,
      consent: { id: PERSON_CONSENT, from: PID_A },
    });
    await call("no consent", "bank-svc", { scope: SCOPE });
    await call("onbehalfof", "krr-svc", { scope: SCOPE, onbehalfof: "kunde-1" });
    await call("unlisted onbehalfof", "krr-svc", { scope: SCOPE, onbehalfof: "kunde-2" });
    await call("no onbehalfof", "krr-svc", { scope: SCOPE });
    // Values sent as given that hold 11 digits in a row, which may be a pid.
    await call("digits in values", "accounting-svc", {
      ...systemUser,
      systemuser_external_ref: `avd-${PID_B}`,
    });
    await call("digits in consent id", "bank-svc", {
      scope: SCOPE,
      consent: { id: `77ed8698-e619-4066-9eb4-${PID_B}0`, from: CUSTOMER_ORG },
    });
  } finally {
    output.restore();
  }
});
afterAll(async () => {
  await fixture.close();
  await keys.remove();
});

describe("system users with externalRef", () => {
  it("mints a token for the system user the externalRef names, sent as externalRef in the grant", () => {
    expect(answer("externalRef").status).toBe(200);
    expect(claimsOf("externalRef").authorization_details).toEqual([
      expect.objectContaining({ type: "urn:altinn:systemuser", systemuser_id: ["su-2"] }),
    ]);
    expect(fixture.emulator.acceptedGrants.map((g) => g.authorization_details)).toContainEqual([
      {
        type: "urn:altinn:systemuser",
        systemuser_org: { authority: "iso6523-actorid-upis", ID: `0192:${SYSTEM_USER_ORG}` },
        externalRef: "avd-2",
      },
    ]);
    expect(recordOf("externalRef")).toMatchObject({
      systemuser_org: SYSTEM_USER_ORG,
      systemuser_external_ref: "avd-2",
    });
  });

  it("the same organisation without externalRef is refused by Maskinporten with MP-303", () => {
    expect(answer("no externalRef")).toMatchObject({
      status: 502,
      body: {
        code: "upstream_rejected",
        upstream_error: "invalid_altinn_customer_configuration",
        upstream_error_description: expect.stringContaining("MP-303"),
      },
    });
  });

  it("an externalRef outside the rule's list is denied before any grant, without echoing it", () => {
    expect(answer("unlisted externalRef")).toMatchObject({ status: 403, body: { code: "access_denied" } });
    expect(JSON.stringify(answer("unlisted externalRef").body)).not.toContain("avd-3");
  });

  it("a rule with systemuser_external_refs denies a request without one", () => {
    expect(answer("externalRef required")).toMatchObject({
      status: 403,
      body: { detail: expect.stringContaining("rule requires systemuser_external_ref") },
    });
  });
});

describe("consent tokens", () => {
  it("a person's consent: the grant names them by pid URN, the token carries the consent's claims", () => {
    expect(answer("person consent").status).toBe(200);
    expect(fixture.emulator.acceptedGrants.map((g) => g.authorization_details)).toContainEqual([
      { type: "urn:altinn:consent", id: PERSON_CONSENT, from: `urn:altinn:person:identifier-no:${PID_A}` },
    ]);
    expect(claimsOf("person consent").authorization_details).toEqual([
      {
        type: "urn:altinn:consent",
        id: PERSON_CONSENT,
        from: `urn:altinn:person:identifier-no:${PID_A}`,
        to: { authority: "iso6523-actorid-upis", ID: `0192:${CLIENT_ORG}` },
        consented: expect.any(String),
        validTo: VALID_TO,
        consentRights: [expect.objectContaining({ action: ["consent"] })],
      },
    ]);
  });

  it("an organisation's consent, audited with the organisation number", () => {
    expect(claimsOf("org consent").authorization_details).toEqual([
      expect.objectContaining({
        id: ORG_CONSENT,
        from: `urn:altinn:organization:identifier-no:${CUSTOMER_ORG}`,
      }),
    ]);
    expect(recordOf("org consent")).toMatchObject({
      consent_id: ORG_CONSENT,
      consent_from_org: CUSTOMER_ORG,
    });
    expect(recordOf("org consent")).not.toHaveProperty("consent_from_pseudonym");
  });

  it("another person than the consent's is refused by Maskinporten, the answer naming no pid", () => {
    expect(answer("other person")).toMatchObject({
      status: 502,
      body: {
        upstream_error: "invalid_authorization_details",
        upstream_error_description: expect.stringContaining("not given by that party"),
      },
    });
  });

  it("a rule without consent: true denies a consent, and one with it requires a consent", () => {
    expect(answer("consent denied")).toMatchObject({ status: 403, body: { code: "access_denied" } });
    expect(answer("no consent")).toMatchObject({
      status: 403,
      body: { detail: expect.stringContaining("rule requires consent") },
    });
  });

  it("no captured log line holds a consent's pid; audit records carry its pseudonym and the consent id", () => {
    expect(output.lines.length).toBeGreaterThan(0);
    for (const pid of [PID_A, PID_B]) {
      for (const line of output.lines) expect(line.includes(pid), "a log line holds a pid").toBe(false);
    }
    expect(recordOf("person consent")).toMatchObject({
      event: "token_issued",
      consent_id: PERSON_CONSENT,
      consent_from_pseudonym: pseudonymOf(PID_A),
    });
    expect(recordOf("other person")).toMatchObject({ consent_from_pseudonym: pseudonymOf(PID_B) });
    expect(recordOf("consent denied")).toMatchObject({
      event: "token_denied",
      consent_id: PERSON_CONSENT,
      consent_from_pseudonym: pseudonymOf(PID_A),
    });
    // A pseudonym costs a MAC: a caller no rule comes near gets none computed.
    expect(recordOf("consent stranger")).toMatchObject({ event: "token_denied", consent_id: PERSON_CONSENT });
    expect(recordOf("consent stranger")).not.toHaveProperty("consent_from_pseudonym");
  });

  it("an externalRef or a consent id holding 11 digits is audited with them masked, and refused upstream unechoed", () => {
    expect(recordOf("digits in values")).toMatchObject({ systemuser_external_ref: "avd-[pid]" });
    expect(recordOf("digits in consent id")).toMatchObject({
      event: "token_failed",
      consent_id: "77ed8698-e619-4066-9eb4-[pid]",
    });
    expect(answer("digits in consent id").body).toMatchObject({
      upstream_error: "invalid_authorization_details",
    });
    expect(JSON.stringify(answer("digits in consent id").body)).not.toContain(PID_B);
  });

  it("a policy that allows consent without PID_PSEUDONYM_KEY is refused at cold start", async () => {
    const env = { ...fixture.env, POLICY: JSON.stringify({ rules: [POLICY.rules[3]] }) };
    expect(env).not.toHaveProperty("PID_PSEUDONYM_KEY");
    await expect(createBroker(loadConfig(env))).rejects.toThrow(
      /^PID_PSEUDONYM_KEY: required because policy rules\[0\] allows consent/,
    );
    await expect(createBroker(loadConfig(env))).rejects.toBeInstanceOf(ConfigError);
  });
});

describe("iss_onbehalfof", () => {
  it("is sent as iss_onbehalfof in the grant and audited", () => {
    expect(answer("onbehalfof").status).toBe(200);
    expect(fixture.emulator.acceptedGrants.map((g) => g.iss_onbehalfof)).toContain("kunde-1");
    expect(recordOf("onbehalfof")).toMatchObject({ onbehalfof: "kunde-1" });
  });

  it("an onbehalfofs rule refuses a value outside it and a request without one", () => {
    expect(answer("unlisted onbehalfof")).toMatchObject({ status: 403, body: { code: "access_denied" } });
    expect(answer("no onbehalfof")).toMatchObject({
      status: 403,
      body: { detail: expect.stringContaining("rule requires onbehalfof") },
    });
  });
});

describe("exclusions", () => {
  it.each([
    ["consumer_org with onbehalfof", { consumer_org: CUSTOMER_ORG, onbehalfof: "kunde-1" }],
    ["consumer_org with systemuser_org", { consumer_org: CUSTOMER_ORG, systemuser_org: SYSTEM_USER_ORG }],
    [
      "consent with systemuser_org",
      { consent: { id: ORG_CONSENT, from: CUSTOMER_ORG }, systemuser_org: SYSTEM_USER_ORG },
    ],
    ["consent with pid", { consent: { id: ORG_CONSENT, from: CUSTOMER_ORG }, pid: PID_B }],
    ["systemuser_external_ref without systemuser_org", { systemuser_external_ref: "avd-1" }],
  ])("%s is a 400 that signs nothing", async (_name, fields) => {
    const grants = fixture.emulator.grantsReceived;
    const response = await fixture.call(
      tokenEvent({ scope: SCOPE, ...fields }, { identity: roleCaller("bank-svc") }),
    );
    expect(response.statusCode).toBe(400);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    expect(body.code).toBe("invalid_request");
    expect(JSON.stringify(body)).not.toContain(PID_B);
    expect(fixture.emulator.grantsReceived).toBe(grants);
  });
});
