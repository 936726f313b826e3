// Upstream answers are bounded, through the token handler against the emulator: a huge body, a lifetime beyond the
// token's own exp or beyond 24 h, and a Retry-After of a day are each cut down to what the broker can trust.
import { SignJWT, UnsecuredJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AuditTrail } from "../../lib/audit/index.ts";
import { MAX_TOKEN_LIFETIME_SECONDS } from "../../lib/upstream/lifetime.ts";
import { MAX_RETRY_AFTER_SECONDS } from "../../lib/upstream/retry.ts";
import { auditLines } from "../support/audit-lines.ts";
import {
  ACCOUNT,
  type BrokerFixture,
  fixtureHandler,
  invoke,
  roleCaller,
  startBrokerFixture,
} from "../support/broker-fixture.ts";

const MIB = "x".repeat(1024 * 1024);
const POLICY = {
  rules: [
    { principal: `arn:aws:iam::${ACCOUNT}:role/payroll-svc`, scopes: ["*"] },
    { principal: `arn:aws:iam::${ACCOUNT}:role/altinn-svc`, scopes: ["altinn:*"], exchanges: ["altinn"] },
  ],
};

let fixture: BrokerFixture;
beforeAll(async () => {
  fixture = await startBrokerFixture();
});
afterAll(() => fixture.close());
afterEach(() => {
  fixture.emulator.clearFaults();
  fixture.emulator.altinn.clearFaults();
});

/** A fresh broker (empty cache) whose retries do not wait. */
function handler() {
  const audit = auditLines();
  const token = fixtureHandler(
    fixture,
    { POLICY: JSON.stringify(POLICY) },
    { upstream: { sleep: async () => undefined }, audit: new AuditTrail({ write: audit.write }) },
  );
  return { token, audit };
}

/** Maskinporten's 200 with this body, on every attempt. */
function answerEveryAttempt(body: string): void {
  fixture.emulator.injectFault(
    ...Array.from({ length: 3 }, () => ({ type: "status", status: 200, body }) as const),
  );
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const tokenBody = (accessToken: string, expiresIn: number) =>
  JSON.stringify({
    access_token: accessToken,
    token_type: "Bearer",
    expires_in: expiresIn,
    scope: "skatteetaten:mva",
  });

describe("upstream answers are bounded", () => {
  it("a 1 MiB upstream body is a 503, not a crash", async () => {
    const { token, audit } = handler();
    answerEveryAttempt(MIB);
    const answer = await invoke(token, { scope: "skatteetaten:mva" });
    expect(answer).toMatchObject({
      status: 503,
      body: { code: "upstream_unavailable", upstream: "maskinporten" },
    });
    expect(String(answer.body.detail)).toMatch(/after 3 attempt\(s\) \(last: oversized_body\)/);
    expect(audit.records.at(-1)).toMatchObject({ event: "token_failed", grants_signed: 3 });
    // The broker still works: the next request gets a token.
    expect((await invoke(token, { scope: "skatteetaten:mva" })).status).toBe(200);
  });

  it("a 1 MiB body from Altinn is a 503 naming Altinn, not a crash", async () => {
    const { token } = handler();
    fixture.emulator.altinn.injectFault(
      ...Array.from({ length: 3 }, () => ({ type: "status", status: 200, body: MIB }) as const),
    );
    const answer = await invoke(
      token,
      { scope: "altinn:x", exchange: "altinn" },
      { identity: roleCaller("altinn-svc") },
    );
    expect(answer).toMatchObject({ status: 503, body: { code: "upstream_unavailable", upstream: "altinn" } });
    expect(String(answer.body.detail)).toMatch(/last: oversized_body/);
  });

  it("a JWT's expires_in is trusted only up to its own exp", async () => {
    const { token } = handler();
    const iat = nowSeconds();
    const jwt = new UnsecuredJWT({ scope: "skatteetaten:mva" })
      .setIssuedAt(iat)
      .setExpirationTime(iat + 120)
      .encode();
    answerEveryAttempt(tokenBody(jwt, 7 * 24 * 3600));
    const answer = await invoke(token, { scope: "skatteetaten:mva" });
    expect(answer.status).toBe(200);
    expect(answer.body.access_token).toBe(jwt);
    expect(Number(answer.body.expires_in)).toBeLessThanOrEqual(120);
    expect(Number(answer.body.expires_in)).toBeGreaterThanOrEqual(118);
  });

  it("a token that is not a JWT is trusted for 24 h at most, whatever its expires_in", async () => {
    const { token } = handler();
    answerEveryAttempt(tokenBody("opaque-reference-token", 10 * MAX_TOKEN_LIFETIME_SECONDS));
    const answer = await invoke(token, { scope: "skatteetaten:mva" });
    expect(answer.status).toBe(200);
    expect(Number(answer.body.expires_in)).toBeLessThanOrEqual(MAX_TOKEN_LIFETIME_SECONDS);
    expect(Number(answer.body.expires_in)).toBeGreaterThan(MAX_TOKEN_LIFETIME_SECONDS - 5);
  });

  it("a token already past its exp, or an expires_in of 0, is not a token: 503 after the retries", async () => {
    const key = new TextEncoder().encode("k".repeat(32));
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt(nowSeconds() - 600)
      .setExpirationTime(nowSeconds() - 480)
      .sign(key);
    for (const body of [tokenBody(expired, 120), tokenBody("opaque", 0)]) {
      const { token } = handler();
      answerEveryAttempt(body);
      const answer = await invoke(token, { scope: "skatteetaten:mva" });
      expect(answer).toMatchObject({ status: 503, body: { code: "upstream_unavailable" } });
      expect(String(answer.body.detail)).toMatch(/last: malformed_body/);
    }
  });

  it("a Retry-After passed on is capped at 300 s", async () => {
    const { token } = handler();
    fixture.emulator.injectFault({ type: "status", status: 503, retryAfter: "86400" });
    const answer = await invoke(token, { scope: "skatteetaten:mva" });
    expect(answer).toMatchObject({ status: 503, body: { code: "upstream_unavailable" } });
    expect(answer.headers["Retry-After"]).toBe(String(MAX_RETRY_AFTER_SECONDS));
    fixture.emulator.injectFault({
      type: "status",
      status: 429,
      retryAfter: "Wed, 21 Oct 2099 07:28:00 GMT",
    });
    const dated = await invoke(token, { scope: "skatteetaten:mva" });
    expect(dated.headers["Retry-After"]).toBe("300");
  });
});
