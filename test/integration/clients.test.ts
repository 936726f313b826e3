// Two Maskinporten clients, two keys, one broker, the emulator: each client signs with its own key, for its own client id.
import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lambdaContext } from "../../dev/api-gateway-event.ts";
import { createJwksHandler } from "../../functions/jwks.ts";
import { createTokenHandler } from "../../functions/token.ts";
import { UNKNOWN_CLIENT } from "../../lib/broker/clients.ts";
import { createBroker } from "../../lib/broker/index.ts";
import { ConfigError } from "../../lib/config/config-error.ts";
import { loadConfig } from "../../lib/config/index.ts";
import { roleCaller, tokenEvent } from "../support/broker-fixture.ts";
import { type CapturedOutput, captureOutput } from "../support/output.ts";
import { startTwoClientFixture, TWO_CLIENTS, type TwoClientFixture } from "../support/two-clients.ts";

interface Answer {
  status: number;
  cache: string | undefined;
  body: Record<string, unknown>;
}

let fixture: TwoClientFixture;
let output: CapturedOutput;
let send: (body: unknown, role?: string) => Promise<Answer>;
let jwks: { keys: { kid: string }[] };
const answers: Record<string, Answer> = {};

beforeAll(async () => {
  fixture = await startTwoClientFixture();
  const broker = createBroker(loadConfig(fixture.env));
  const token = createTokenHandler(broker);
  send = async (body, role = "ops") => {
    const response = await token(tokenEvent(body, { identity: roleCaller(role) }), lambdaContext("token"));
    return {
      status: response.statusCode,
      cache: response.headers?.["X-Token-Cache"]?.toString(),
      body: JSON.parse(response.body) as Record<string, unknown>,
    };
  };
  output = captureOutput();
  try {
    const mva = { scope: "skatteetaten:mva" };
    // Both clients at once, same scope: two misses, never one coalesced onto the other.
    [answers.payroll, answers.vat] = await Promise.all([
      send({ ...mva, client: "payroll" }),
      send({ ...mva, client: "vat" }),
    ]);
    answers.payrollAgain = await send({ ...mva, client: "payroll" });
    answers.vatAgain = await send({ ...mva, client: "vat" });
    answers.payrollSvc = await send({ ...mva, client: "payroll" }, "payroll-svc");
    answers.payrollSvcVat = await send({ ...mva, client: "vat" }, "payroll-svc");
    answers.noClient = await send(mva);
    answers.unknown = await send({ ...mva, client: "payrol" });
    answers.malformed = await send({ ...mva, client: "pay roll" });
  } finally {
    output.restore();
  }
  const response = await createJwksHandler(broker)(tokenEvent(undefined), lambdaContext("jwks"));
  jwks = JSON.parse(response.body) as typeof jwks;
});
afterAll(() => fixture.close());

const accessToken = (answer: Answer | undefined): string => String(answer?.body.access_token);
const claimsOf = async (answer: Answer | undefined) =>
  (await jwtVerify(accessToken(answer), createLocalJWKSet(fixture.emulator.publicJwks))).payload;
const auditRecords = () =>
  output.json().filter((line) => typeof line.event === "string" && "request_id" in line);

describe("two Maskinporten clients in one broker", () => {
  it("each client's token carries its own client_id, from a grant signed with its own key", async () => {
    expect(answers.payroll?.status).toBe(200);
    expect(answers.vat?.status).toBe(200);
    expect(await claimsOf(answers.payroll)).toMatchObject({ client_id: TWO_CLIENTS.payroll.clientId });
    expect(await claimsOf(answers.vat)).toMatchObject({ client_id: TWO_CLIENTS.vat.clientId });
    const grants = fixture.emulator.acceptedGrants;
    expect(grants.map((grant) => grant.iss).sort()).toEqual(
      [TWO_CLIENTS.payroll.clientId, TWO_CLIENTS.vat.clientId].sort(),
    );
  });

  it("the two never share a cache entry: equal requests for two clients are two misses, each then hit on its own", () => {
    expect([answers.payroll?.cache, answers.vat?.cache]).toEqual(["miss", "miss"]);
    expect(accessToken(answers.payroll)).not.toBe(accessToken(answers.vat));
    expect(answers.payrollAgain).toMatchObject({ status: 200, cache: "hit" });
    expect(answers.vatAgain).toMatchObject({ status: 200, cache: "hit" });
    expect(accessToken(answers.payrollAgain)).toBe(accessToken(answers.payroll));
    expect(accessToken(answers.vatAgain)).toBe(accessToken(answers.vat));
    expect(fixture.emulator.acceptedGrants).toHaveLength(2);
  });

  it("a principal allowed only one client is denied the other", () => {
    expect(answers.payrollSvc).toMatchObject({ status: 200, cache: "hit" });
    expect(answers.payrollSvcVat).toMatchObject({
      status: 403,
      body: { code: "access_denied", detail: expect.stringContaining("may not use client vat") },
    });
  });

  it("with two clients configured a request without client is 400 naming the field; an unknown name is 400", () => {
    expect(answers.noClient).toMatchObject({
      status: 400,
      body: { code: "invalid_request", detail: expect.stringMatching(/^client: required/) },
    });
    // Neither the name asked for nor the configured ones: those are the broker's configuration.
    expect(answers.unknown).toMatchObject({
      status: 400,
      body: { code: "invalid_request", detail: UNKNOWN_CLIENT },
    });
    for (const answer of [answers.noClient, answers.unknown]) {
      expect(JSON.stringify(answer?.body)).not.toMatch(/payroll|vat|payrol/);
    }
    expect(answers.malformed).toMatchObject({
      status: 400,
      body: { code: "invalid_request", detail: expect.stringMatching(/^client: /) },
    });
  });

  it("the JWKS lists both clients' keys", () => {
    expect(jwks.keys.map((key) => key.kid)).toEqual([TWO_CLIENTS.payroll.kid, TWO_CLIENTS.vat.kid]);
    expect(jwks.keys).toEqual([
      expect.objectContaining({ n: fixture.jwks.payroll.n }),
      expect.objectContaining({ n: fixture.jwks.vat.n }),
    ]);
  });

  it("audit records name the client (and its key); a request whose client is not settled names none", () => {
    const records = auditRecords();
    expect(records).toHaveLength(9);
    const issued = records.filter((record) => record.event === "token_issued");
    expect(issued.map((record) => record.client).sort()).toEqual([
      "payroll",
      "payroll",
      "payroll",
      "vat",
      "vat",
    ]);
    for (const record of issued.filter((r) => r.cache === "miss")) {
      const kid = TWO_CLIENTS[record.client as keyof typeof TWO_CLIENTS].kid;
      expect(record.key).toMatch(new RegExp(`#${kid}$`));
    }
    expect(records.find((record) => record.event === "token_denied")).toMatchObject({ client: "vat" });
    const invalid = records.filter((record) => record.code === "invalid_request");
    expect(invalid).toHaveLength(3);
    for (const record of invalid) expect(record.client).toBeUndefined();
  });

  it("metrics carry a Client dimension beside the service-wide set, one EMF document per request", () => {
    const documents = output.json().filter((line) => typeof line._aws === "object");
    expect(documents).toHaveLength(9);
    const dimensionsOf = (doc: Record<string, unknown>) =>
      (doc._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]?.Dimensions;
    const withClient = documents.filter((doc) => typeof doc.Client === "string");
    expect(withClient.map((doc) => doc.Client).sort()).toEqual([
      "payroll",
      "payroll",
      "payroll",
      "vat",
      "vat",
      "vat",
    ]);
    for (const doc of withClient) expect(dimensionsOf(doc)).toEqual([["service"], ["service", "Client"]]);
    for (const doc of documents.filter((d) => d.Client === undefined))
      expect(dimensionsOf(doc)).toEqual([["service"]]);
  });
});

describe("loading several clients' keys", () => {
  it("refuses to start naming every client whose key is unusable, and the field", async () => {
    const clients = ["payroll", "vat"].map((name) => ({
      name,
      client_id: `mp-${name}`,
      signing_key: `file:/nonexistent/${name}.pem`,
    }));
    const config = loadConfig({ ...fixture.env, CLIENTS: JSON.stringify({ clients }) });
    const refusal = createBroker(config);
    await expect(refusal).rejects.toBeInstanceOf(ConfigError);
    await expect(refusal).rejects.toThrow(
      "client payroll signing_key file:/nonexistent/payroll.pem: cannot read the key file (ENOENT)\n" +
        "client vat signing_key file:/nonexistent/vat.pem: cannot read the key file (ENOENT)",
    );
  });
});

describe("the grant budget with several clients", () => {
  it("counts each client on its own: a principal past its budget for one client still gets grants for the other", async () => {
    const handler = createTokenHandler(
      createBroker(loadConfig({ ...fixture.env, GRANTS_PER_PRINCIPAL_PER_MINUTE: "1" }), {
        monotonic: () => 1_000_000,
      }),
    );
    const ask = async (body: unknown) => {
      const response = await handler(
        tokenEvent(body, { identity: roleCaller("ops") }),
        lambdaContext("token"),
      );
      return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
    };
    expect((await ask({ scope: "skatteetaten:mva", client: "payroll" })).status).toBe(200);
    expect(await ask({ scope: "skatteetaten:inntektsmottak", client: "payroll" })).toMatchObject({
      status: 429,
      body: { code: "rate_limited", detail: expect.stringContaining("for client payroll") },
    });
    expect((await ask({ scope: "skatteetaten:inntektsmottak", client: "vat" })).status).toBe(200);
  });
});
