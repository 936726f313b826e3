import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiGatewayEvent, lambdaContext } from "../../dev/api-gateway-event.ts";
import { createHealthHandler } from "../../functions/health.ts";
import { lazy } from "../../functions/http.ts";
import { createJwksHandler } from "../../functions/jwks.ts";
import { createTokenHandler } from "../../functions/token.ts";
import { healthOf } from "../../lib/broker/index.ts";
import { PolicyError } from "../../lib/policy/index.ts";
import packageJson from "../../package.json" with { type: "json" };
import { type ControlledBroker, startControlledBroker, tokenEvent } from "../support/broker-fixture.ts";
import { type CapturedOutput, captureOutput } from "../support/output.ts";

const get = (path: string) =>
  apiGatewayEvent({
    method: "GET",
    path,
    resource: path,
    query: new URLSearchParams(),
    headers: {},
    body: null,
    sourceIp: "10.0.0.7",
    identity: null,
  });

let fixture: ControlledBroker;
let output: CapturedOutput;
beforeEach(async () => {
  output = captureOutput();
  fixture = await startControlledBroker();
});
afterEach(async () => {
  output.restore();
  await fixture.close();
});

describe("GET /.well-known/jwks.json", () => {
  it("publishes the signing key's public JWK with max-age=300 and no private parts", async () => {
    const response = await createJwksHandler(Promise.resolve(fixture.broker))(
      get("/.well-known/jwks.json"),
      lambdaContext("jwks"),
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      "Cache-Control": "max-age=300",
      "Content-Type": "application/json",
    });
    const { keys } = JSON.parse(response.body) as { keys: Record<string, unknown>[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "RSA", kid: "broker-key-1", alg: "RS256", use: "sig" });
    expect(Object.keys(keys[0] ?? {}).filter((k) => ["d", "p", "q", "dp", "dq", "qi"].includes(k))).toEqual(
      [],
    );
  });
});

describe("GET /health", () => {
  it("tells a caller only that the broker is up, and its version: no client id, key source or policy", async () => {
    const response = await createHealthHandler(async () => healthOf())(
      get("/health"),
      lambdaContext("health"),
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ "Cache-Control": "no-store" });
    expect(JSON.parse(response.body)).toEqual({ status: "ok", version: packageJson.version });
    expect(response.body).not.toMatch(new RegExp(`${fixture.env.MASKINPORTEN_CLIENT_ID}|kms|file|rules`));
  });
});

describe("route glue", () => {
  it("refuses to start on an invalid policy: the handler fails instead of answering", async () => {
    const handler = createTokenHandler(() => Promise.reject(new PolicyError("POLICY: rules[0].scopes: bad")));
    await expect(handler(tokenEvent({ scope: "a" }), lambdaContext("token"))).rejects.toThrow(/rules\[0\]/);
    expect(output.json().some((line) => line.message === "configuration_invalid")).toBe(true);
  });

  it("turns any other failure into a 500 problem without details", async () => {
    const handler = createTokenHandler(() => Promise.reject(new TypeError("secret detail")));
    const event = tokenEvent({ scope: "a" });
    const response = await handler(event, lambdaContext("token"));
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toMatchObject({
      code: "internal_error",
      detail: "An internal error occurred",
      request_id: event.requestContext.requestId,
    });
    expect(response.body).not.toContain("secret detail");
  });

  it("renders a problem's type under PROBLEM_TYPE_BASE, read when the handler is made", async () => {
    const failing = () => Promise.reject(new TypeError("boom"));
    const event = tokenEvent({ scope: "a" });
    const configured = createTokenHandler(failing, { problemTypeBase: "https://errors.example.no/broker/" });
    const body = JSON.parse((await configured(event, lambdaContext("token"))).body) as { type: string };
    expect(body.type).toBe("https://errors.example.no/broker/internal_error");

    const saved = process.env.PROBLEM_TYPE_BASE;
    process.env.PROBLEM_TYPE_BASE = "https://docs.example.no/api#";
    try {
      const fromEnv = createTokenHandler(failing);
      const answer = JSON.parse((await fromEnv(event, lambdaContext("token"))).body) as { type: string };
      expect(answer.type).toBe("https://docs.example.no/api#internal_error");
    } finally {
      if (saved === undefined) delete process.env.PROBLEM_TYPE_BASE;
      else process.env.PROBLEM_TYPE_BASE = saved;
    }
  });

  it("lazy() builds once, and tries again after a failure", async () => {
    let calls = 0;
    const get = lazy(async () => {
      calls++;
      if (calls === 1) throw new Error("cold start hiccup");
      return calls;
    });
    await expect(get()).rejects.toThrow("cold start hiccup");
    expect(await get()).toBe(2);
    expect(await get()).toBe(2);
    expect(calls).toBe(2);
  });
});
