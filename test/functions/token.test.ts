import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lambdaContext } from "../../dev/api-gateway-event.ts";
import { lazy } from "../../functions/http.ts";
import { createTokenHandler } from "../../functions/token.ts";
import { AuditTrail } from "../../lib/audit/index.ts";
import type { Broker } from "../../lib/broker/index.ts";
import { SigningUnavailable } from "../../lib/problem/index.ts";
import { parseTokenRequest } from "../../lib/request/index.ts";
import {
  ACCOUNT,
  CONSUMER_ORG,
  type ControlledBroker,
  roleCaller,
  SYSTEMUSER_ORG,
  startControlledBroker,
  tokenEvent,
} from "../support/broker-fixture.ts";
import { type CapturedOutput, captureOutput } from "../support/output.ts";

const MVA = { scope: "skatteetaten:mva" };
const body = (response: { body: string }) => JSON.parse(response.body) as Record<string, unknown>;

let output: CapturedOutput;
let fixture: ControlledBroker | undefined;
beforeEach(() => {
  output = captureOutput();
});
afterEach(async () => {
  output.restore();
  await fixture?.close();
  fixture = undefined;
});

describe("POST /token", () => {
  it("serves 1,000 concurrent requests for one scope set with one grant signed and one upstream call", async () => {
    fixture = await startControlledBroker();
    const responses = await Promise.all(Array.from({ length: 1000 }, () => fixture?.call(tokenEvent(MVA))));
    expect(fixture.signer.signs).toBe(1);
    expect(fixture.emulator.grantsReceived).toBe(1);
    expect(fixture.emulator.acceptedGrants).toHaveLength(1);
    expect(responses.every((r) => r?.statusCode === 200)).toBe(true);
    expect(new Set(responses.map((r) => body(r ?? { body: "{}" }).access_token)).size).toBe(1);
    const cache = responses.map((r) => r?.headers?.["X-Token-Cache"]);
    expect(cache.filter((c) => c === "miss")).toHaveLength(1);
    expect(cache.filter((c) => c === "coalesced")).toHaveLength(999);
    const first = responses[0];
    expect(first?.headers).toMatchObject({ "Content-Type": "application/json", "Cache-Control": "no-store" });
    expect(body(first ?? { body: "{}" })).toMatchObject({ token_type: "Bearer", scope: "skatteetaten:mva" });
  });

  it("answers with the remaining lifetime, serves hits, and never serves a token below min_ttl", async () => {
    fixture = await startControlledBroker({ expiresIn: 120, env: { TOKEN_REFRESH_AHEAD_SECONDS: "0" } });
    const first = await fixture.call(tokenEvent(MVA));
    expect(first.headers?.["X-Token-Cache"]).toBe("miss");
    expect(body(first).expires_in).toBeGreaterThanOrEqual(119);
    fixture.advance(60);
    const hit = await fixture.call(tokenEvent({ ...MVA, min_ttl: 30 }));
    expect(hit.headers?.["X-Token-Cache"]).toBe("hit");
    expect(body(hit).access_token).toBe(body(first).access_token);
    expect(body(hit).expires_in).toBeLessThanOrEqual(60);
    expect(body(hit).expires_in).toBeGreaterThanOrEqual(30);
    fixture.advance(1);
    const longer = await fixture.call(tokenEvent({ ...MVA, min_ttl: 60 }));
    expect(longer.headers?.["X-Token-Cache"]).toBe("miss");
    expect(body(longer).access_token).not.toBe(body(first).access_token);
    expect(body(longer).expires_in).toBeGreaterThanOrEqual(60);
    expect(fixture.emulator.acceptedGrants).toHaveLength(2);
  });

  it("refuses a min_ttl longer than the lifetime Maskinporten grants with 400 naming min_ttl", async () => {
    fixture = await startControlledBroker({ expiresIn: 60 });
    const response = await fixture.call(tokenEvent({ ...MVA, min_ttl: 120 }));
    expect(response.statusCode).toBe(400);
    expect(body(response)).toMatchObject({
      code: "invalid_request",
      detail: expect.stringMatching(/^min_ttl:/),
    });
  });

  it("refreshes ahead in the background: the caller is served the old token without waiting", async () => {
    let gate: (() => void) | undefined;
    let gated = false;
    fixture = await startControlledBroker({
      expiresIn: 120,
      env: { TOKEN_REFRESH_AHEAD_SECONDS: "15" },
      wrapFetch: (inner) => async (input, init) => {
        if (gated) await new Promise<void>((resolve) => (gate = resolve));
        return inner(input, init);
      },
    });
    const first = body(await fixture.call(tokenEvent(MVA)));
    fixture.advance(80);
    gated = true;
    const served = await fixture.call(tokenEvent(MVA));
    expect(served.headers?.["X-Token-Cache"]).toBe("hit");
    expect(body(served).access_token).toBe(first.access_token);
    expect(fixture.emulator.grantsReceived).toBe(1);
    await expect.poll(() => gate !== undefined).toBe(true);
    gated = false;
    gate?.();
    await expect.poll(() => fixture?.emulator.acceptedGrants.length).toBe(2);
    await expect
      .poll(async () => body((await fixture?.call(tokenEvent(MVA))) ?? { body: "{}" }).access_token)
      .not.toBe(first.access_token);
    const after = await fixture.call(tokenEvent(MVA));
    expect(after.headers?.["X-Token-Cache"]).toBe("hit");
    expect(body(after).expires_in).toBeGreaterThan(100);
    expect(fixture.signer.signs).toBe(2);
  });

  it("caches no failed mint: with REFUSAL_CACHE_SECONDS=0 the next request tries Maskinporten again", async () => {
    fixture = await startControlledBroker({ env: { REFUSAL_CACHE_SECONDS: "0" } });
    fixture.emulator.injectFault({
      type: "status",
      status: 400,
      body: JSON.stringify({ error: "invalid_scope", error_description: "MP-200 scope not allowed" }),
    });
    const failed = await fixture.call(tokenEvent(MVA));
    expect(failed.statusCode).toBe(502);
    expect(body(failed)).toMatchObject({
      code: "upstream_rejected",
      upstream_error: "invalid_scope",
      upstream_error_description: "MP-200 scope not allowed",
    });
    const next = await fixture.call(tokenEvent(MVA));
    expect(next.statusCode).toBe(200);
    expect(next.headers?.["X-Token-Cache"]).toBe("miss");
    expect(fixture.emulator.grantsReceived).toBe(2);
  });

  it("maps upstream unavailability to 503 with Retry-After, and key failures to 503 signing_unavailable", async () => {
    fixture = await startControlledBroker();
    const fault = { type: "status", status: 503 } as const;
    fixture.emulator.injectFault(fault, fault, fault);
    const down = await fixture.call(tokenEvent(MVA));
    expect(down.statusCode).toBe(503);
    expect(down.headers).toMatchObject({ "Content-Type": "application/problem+json", "Retry-After": "1" });
    expect(body(down).code).toBe("upstream_unavailable");

    const slow = { type: "status", status: 429, retryAfter: "2" } as const;
    fixture.emulator.injectFault(slow, slow, slow);
    const throttled = await fixture.call(tokenEvent(MVA));
    expect(throttled.statusCode).toBe(503);
    expect(throttled.headers?.["Retry-After"]).toBe("2");

    fixture.emulator.injectFault({ type: "drop" }, { type: "drop" }, { type: "drop" });
    expect((await fixture.call(tokenEvent(MVA))).statusCode).toBe(503);

    fixture.signer.failNext(1);
    const unsigned = await fixture.call(tokenEvent(MVA));
    expect(unsigned.statusCode).toBe(503);
    expect(unsigned.headers?.["Retry-After"]).toBe("1");
    expect(body(unsigned).code).toBe("signing_unavailable");
    expect((await fixture.call(tokenEvent(MVA))).statusCode).toBe(200);
  });

  it("serves delegated and system user tokens the policy allows", async () => {
    fixture = await startControlledBroker();
    const delegated = await fixture.call(tokenEvent({ ...MVA, consumer_org: CONSUMER_ORG }));
    expect(delegated.statusCode).toBe(200);
    const systemUser = await fixture.call(
      tokenEvent(
        { scope: "altinn:x", systemuser_org: SYSTEMUSER_ORG },
        { identity: roleCaller("altinn-svc") },
      ),
    );
    expect(systemUser.statusCode).toBe(200);
    expect(fixture.emulator.acceptedGrants.map((g) => [g.consumer_org, g.authorization_details])).toEqual([
      [CONSUMER_ORG, undefined],
      [undefined, [expect.objectContaining({ type: "urn:altinn:systemuser" })]],
    ]);
  });
});

describe("POST /token denials", () => {
  const denied = async (event: ReturnType<typeof tokenEvent>, reason: RegExp) => {
    const response = await fixture?.call(event);
    expect(response?.statusCode).toBe(403);
    expect(response?.headers?.["Content-Type"]).toBe("application/problem+json");
    expect(body(response ?? { body: "{}" })).toMatchObject({
      code: "access_denied",
      detail: expect.stringMatching(reason),
    });
  };

  it("denies each thing the policy does not allow, with a reason, and never calls upstream", async () => {
    fixture = await startControlledBroker();
    await denied(tokenEvent(MVA, { identity: null }), /no IAM identity/);
    await denied(
      tokenEvent(MVA, { identity: roleCaller("hr-svc") }),
      /no policy rule matches principal .*role\/hr-svc/,
    );
    await denied(tokenEvent({ scope: "skatteetaten:mva altinn:x" }), /may not request scope altinn:x/);
    await denied(tokenEvent({ ...MVA, consumer_org: "974760673" }), /may not act for consumer_org 974760673/);
    await denied(tokenEvent({ ...MVA, systemuser_org: SYSTEMUSER_ORG }), /systemuser_org 310000000/);
    await denied(
      tokenEvent({ scope: "altinn:x", systemuser_org: CONSUMER_ORG }, { identity: roleCaller("altinn-svc") }),
      /systemuser_org 991825827/,
    );
    expect(fixture.emulator.grantsReceived).toBe(0);
    expect(fixture.signer.signs).toBe(0);
  });

  it("matches an assumed-role caller by its role, whatever the session", async () => {
    fixture = await startControlledBroker();
    for (const session of ["a", "botocore-session-1700000000"]) {
      const response = await fixture.call(
        tokenEvent(MVA, { identity: roleCaller("payroll-batch", session) }),
      );
      expect(response.statusCode).toBe(200);
    }
    const user = {
      ...roleCaller("x"),
      userArn: `arn:aws:iam::${ACCOUNT}:user/payroll-svc`,
    };
    expect((await fixture.call(tokenEvent(MVA, { identity: user }))).statusCode).toBe(403);
  });
});

describe("POST /token bad input", () => {
  it("answers any malformed body or content type with 400/413/415 problem+json, never 500, never a throw", async () => {
    fixture = await startControlledBroker();
    const contentType = fc.option(
      fc.oneof(
        fc.constantFrom(
          "application/json",
          "application/json; charset=utf-8",
          "text/plain",
          "application/xml",
          "",
        ),
        fc.string(),
      ),
      { nil: null },
    );
    const bodies = fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .record(
          {
            scope: fc.oneof(fc.string(), fc.integer(), fc.constant("skatteetaten:mva")),
            resource: fc.oneof(fc.string(), fc.array(fc.webUrl())),
            consumer_org: fc.oneof(fc.stringMatching(/^\d{9}$/), fc.integer()),
            systemuser_org: fc.stringMatching(/^\d{9}$/),
            min_ttl: fc.oneof(fc.integer(), fc.double(), fc.string()),
            extra: fc.anything(),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
      fc.string({ minLength: 8200, maxLength: 9000 }),
    );
    await fc.assert(
      fc.asyncProperty(bodies, contentType, async (raw, type) => {
        const parses = (() => {
          try {
            parseTokenRequest(
              { body: raw, isBase64Encoded: false, contentType: type ?? undefined },
              { environment: "test" },
            );
            return true;
          } catch {
            return false;
          }
        })();
        fc.pre(!parses);
        const response = await fixture?.call(tokenEvent(undefined, { raw, contentType: type }));
        expect([400, 413, 415]).toContain(response?.statusCode);
        expect(response?.headers?.["Content-Type"]).toBe("application/problem+json");
        const problem = body(response ?? { body: "{}" });
        expect(problem.status).toBe(response?.statusCode);
        expect(typeof problem.detail).toBe("string");
      }),
      { numRuns: 200 },
    );
    expect(fixture.emulator.grantsReceived).toBe(0);
  });

  it("reads base64-encoded bodies", async () => {
    fixture = await startControlledBroker();
    const event = tokenEvent(undefined, { raw: Buffer.from(JSON.stringify(MVA)).toString("base64") });
    event.isBase64Encoded = true;
    expect((await fixture.call(event)).statusCode).toBe(200);
  });
});

describe("POST /token when the broker cannot start", () => {
  it("audits one token_failed with the caller and SigningErrors, answers 503, and serves once the start succeeds", async () => {
    fixture = await startControlledBroker();
    const { broker } = fixture;
    let starts = 0;
    // Like the deployed handler: the first cold start finds KMS throttled, the next one builds the broker.
    const source = lazy(async (): Promise<Broker> => {
      starts++;
      if (starts === 1) {
        throw new SigningUnavailable("the signing key could not be loaded", {
          causeName: "ThrottlingException",
        });
      }
      return broker;
    });
    let now = 1000;
    const handler = createTokenHandler(source, { audit: new AuditTrail(), monotonic: () => (now += 5) });

    const failing = tokenEvent(MVA);
    const response = await handler(failing, lambdaContext("token"));
    expect(response.statusCode).toBe(503);
    expect(response.headers?.["Retry-After"]).toBe("1");
    expect(JSON.parse(response.body)).toMatchObject({
      code: "signing_unavailable",
      request_id: failing.requestContext.requestId,
    });

    const failed = output.json().filter((line) => line.event === "token_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      message: "token_failed",
      principal: `arn:aws:iam::${ACCOUNT}:role/payroll-svc`,
      session: "i-0abc",
      account: ACCOUNT,
      source_ip: "10.0.0.7",
      vpce_id: "vpce-0123456789abcdef0",
      request_id: failing.requestContext.requestId,
      latency_ms: 5,
      code: "signing_unavailable",
      reason: "the signing key could not be loaded",
    });
    expect(failed[0]).not.toHaveProperty("scopes");
    const metrics = output.json().filter((line) => typeof line._aws === "object");
    expect(metrics).toHaveLength(1);
    expect(metrics[0]).toMatchObject({ TokenRequests: 1, SigningErrors: 1 });
    expect(metrics[0]).not.toHaveProperty("UpstreamErrors");

    const served = tokenEvent(MVA);
    const recovered = await handler(served, lambdaContext("token"));
    expect(recovered.statusCode).toBe(200);
    expect(JSON.parse(recovered.body)).toMatchObject({ token_type: "Bearer", scope: "skatteetaten:mva" });
    expect(starts).toBe(2);
    const records = output.json().filter((line) => line.request_id === served.requestContext.requestId);
    expect(records.map((r) => r.event)).toEqual(["token_issued"]);
    expect(output.json().filter((line) => line.event === "token_failed")).toHaveLength(1);
  });
});
