// Altinn token exchange through the token handler, against the emulator's Maskinporten and Altinn: lifetime, cache,
// policy, failures, both answer forms.
import { decodeJwt } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  ACCOUNT,
  type ControlledBroker,
  roleCaller,
  startControlledBroker,
  tokenEvent,
} from "../support/broker-fixture.ts";
import { type CapturedOutput, captureOutput } from "../support/output.ts";

const SCOPE = "altinn:x";
/** Distinct scope sets (all granted to the emulator's client) keep each test's cache entries apart in the one broker. */
const scopes = (other: string) => `${SCOPE} ${other}`;
const ALTINN_LIFETIME = 30 * 60;
const POLICY = {
  rules: [
    { principal: `arn:aws:iam::${ACCOUNT}:role/altinn-svc`, scopes: ["*"], exchanges: ["altinn"] },
    { principal: `arn:aws:iam::${ACCOUNT}:role/altinn-svc`, scopes: ["*"] },
    { principal: `arn:aws:iam::${ACCOUNT}:role/payroll-svc`, scopes: ["*"] },
  ],
};

let fixture: ControlledBroker;
let output: CapturedOutput;
beforeAll(async () => {
  // No refresh-ahead: a test that moves the clock sees the cache, not a background refresh.
  fixture = await startControlledBroker({
    env: { POLICY: JSON.stringify(POLICY), TOKEN_REFRESH_AHEAD_SECONDS: "0" },
  });
});
afterAll(() => fixture.close());
afterEach(() => {
  fixture.emulator.altinn.clearFaults();
  fixture.emulator.altinn.answerAs = "jwt";
  output?.restore();
});

async function call(body: Record<string, unknown>, role = "altinn-svc") {
  const response = await fixture.call(tokenEvent(body, { identity: roleCaller(role) }));
  return {
    status: response.statusCode,
    headers: (response.headers ?? {}) as Record<string, string>,
    body: JSON.parse(response.body) as Record<string, unknown>,
  };
}

const exchanges = () => fixture.emulator.altinn.requests.length;
const auditRecords = () => output.json().filter((line) => typeof line.event === "string");

describe("Altinn token exchange", () => {
  it("answers the Altinn token, with the lifetime of the Altinn token's own exp, and exchange: altinn", async () => {
    const grants = fixture.emulator.grantsReceived;
    const answer = await call({ scope: SCOPE, exchange: "altinn" });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body)).toEqual([
      "access_token",
      "token_type",
      "expires_in",
      "scope",
      "exchange",
    ]);
    expect(answer.body).toMatchObject({ token_type: "Bearer", scope: SCOPE, exchange: "altinn" });
    const claims = decodeJwt(String(answer.body.access_token));
    expect(claims).toEqual(fixture.emulator.altinn.issued.at(-1));
    const left = (claims.exp ?? 0) - Math.floor(Date.now() / 1000);
    expect(answer.body.expires_in).toBeGreaterThan(ALTINN_LIFETIME - 10);
    expect(answer.body.expires_in).toBeLessThanOrEqual(left);
    expect(fixture.emulator.grantsReceived - grants).toBe(1);
  });

  it("serves a second request within the Altinn token's life from the cache: no new exchange, no new grant", async () => {
    const request = { scope: scopes("skatteetaten:mva"), exchange: "altinn", min_ttl: 60 };
    const first = await call(request);
    expect(first.headers["X-Token-Cache"]).toBe("miss");
    const before = { exchanges: exchanges(), grants: fixture.emulator.grantsReceived };
    // Past the Maskinporten token's 120 s, well inside the Altinn token's 30 minutes.
    fixture.advance(600);
    const again = await call(request);
    expect(again.headers["X-Token-Cache"]).toBe("hit");
    expect(again.body.access_token).toBe(first.body.access_token);
    expect(Number(again.body.expires_in)).toBeLessThanOrEqual(Number(first.body.expires_in) - 600);
    expect(exchanges()).toBe(before.exchanges);
    expect(fixture.emulator.grantsReceived).toBe(before.grants);
  });

  it("keeps the Maskinporten token apart: a plain request gets Maskinporten's token, not Altinn's", async () => {
    const exchanged = await call({ scope: SCOPE, exchange: "altinn" });
    const plain = await call({ scope: SCOPE });
    expect(exchanged.status).toBe(200);
    expect(plain.status).toBe(200);
    expect(plain.body).not.toHaveProperty("exchange");
    expect(plain.body.access_token).not.toBe(exchanged.body.access_token);
    expect(decodeJwt(String(plain.body.access_token)).iss).toBe(fixture.emulator.issuer);
  });

  it("denies an exchange to a rule without exchanges (403), before any grant or exchange", async () => {
    const before = { exchanges: exchanges(), grants: fixture.emulator.grantsReceived };
    const denied = await call({ scope: SCOPE, exchange: "altinn" }, "payroll-svc");
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ code: "access_denied" });
    expect(String(denied.body.detail)).toMatch(/exchange/);
    expect({ exchanges: exchanges(), grants: fixture.emulator.grantsReceived }).toEqual(before);
  });

  it("turns Altinn's 401 into 502 upstream_rejected naming Altinn, audited with upstream altinn", async () => {
    fixture.emulator.altinn.injectFault({ type: "status", status: 401 });
    const before = exchanges();
    output = captureOutput();
    const answer = await call({ scope: scopes("skatteetaten:inntektsmottak"), exchange: "altinn" });
    output.restore();
    expect(answer.status).toBe(502);
    expect(answer.body).toMatchObject({ code: "upstream_rejected", upstream: "altinn" });
    expect(String(answer.body.detail)).toMatch(/^Altinn answered 401/);
    expect(exchanges() - before).toBe(1);
    expect(auditRecords().at(-1)).toMatchObject({
      event: "token_failed",
      exchange: "altinn",
      upstream: "altinn",
      exchange_status: 401,
      code: "upstream_rejected",
    });
  });

  it("turns Altinn's 503 into 503 upstream_unavailable with Retry-After after retries, audited and counted as Altinn's", async () => {
    fixture.emulator.altinn.injectFault(
      { type: "status", status: 503 },
      { type: "status", status: 503 },
      { type: "status", status: 503, retryAfter: "3" },
    );
    const before = exchanges();
    output = captureOutput();
    const answer = await call({ scope: scopes("nav:aareg/v1/arbeidsforhold"), exchange: "altinn" });
    output.restore();
    expect(answer.status).toBe(503);
    expect(answer.headers["Retry-After"]).toBe("3");
    expect(answer.body).toMatchObject({ code: "upstream_unavailable", upstream: "altinn" });
    expect(exchanges() - before).toBe(3);
    const lines = output.json();
    expect(auditRecords().at(-1)).toMatchObject({ upstream: "altinn", exchange_status: 503 });
    const metrics = lines.find((line) => "ExchangeErrors" in line);
    expect(metrics?.ExchangeErrors).toEqual([1, 1, 1]);
    expect(metrics).not.toHaveProperty("UpstreamErrors");
  });

  it("coalesces concurrent exchanges for one request into one grant and one exchange call", async () => {
    const before = { exchanges: exchanges(), grants: fixture.emulator.grantsReceived };
    const request = { scope: scopes("skatteetaten:mva skatteetaten:inntektsmottak"), exchange: "altinn" };
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(request)));
    expect(new Set(answers.map((a) => a.body.access_token)).size).toBe(1);
    expect(answers.map((a) => a.headers["X-Token-Cache"]).sort()).toEqual([
      ...Array<string>(19).fill("coalesced"),
      "miss",
    ]);
    expect({ exchanges: exchanges(), grants: fixture.emulator.grantsReceived }).toEqual({
      exchanges: before.exchanges + 1,
      grants: before.grants + 1,
    });
  });

  it("refuses a min_ttl over half the Altinn token's own lifetime (400 naming Altinn)", async () => {
    fixture.emulator.altinn.lifetimeSeconds = 60;
    try {
      const answer = await call({
        scope: scopes("skatteetaten:mva nav:aareg/v1/arbeidsforhold"),
        exchange: "altinn",
        min_ttl: 90,
      });
      expect(answer.status).toBe(400);
      expect(String(answer.body.detail)).toMatch(
        /^min_ttl: Altinn issues tokens for this request valid for (59|60) s; min_ttl may be at most half of that \((29|30) s\)/,
      );
    } finally {
      fixture.emulator.altinn.lifetimeSeconds = ALTINN_LIFETIME;
    }
  });

  it("takes Altinn's JSON-string answer as well as the bare JWT", async () => {
    fixture.emulator.altinn.answerAs = "json-string";
    const answer = await call({ scope: scopes("skatteetaten:a-meldinger/les"), exchange: "altinn" });
    expect(answer.status).toBe(200);
    expect(String(answer.body.access_token)).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(decodeJwt(String(answer.body.access_token))).toEqual(fixture.emulator.altinn.issued.at(-1));
  });
});
