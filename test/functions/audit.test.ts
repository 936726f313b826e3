import { createHash, createPrivateKey } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  CONSUMER_ORG,
  type ControlledBroker,
  roleCaller,
  SYSTEMUSER_ORG,
  startControlledBroker,
  tokenEvent,
} from "../support/broker-fixture.ts";
import { type CapturedOutput, captureOutput } from "../support/output.ts";

/** In every record; the other audit fields appear where they apply (Powertools drops empty values). */
const ALWAYS = ["event", "source_ip", "vpce_id", "latency_ms", "request_id"];
const WITH_IDENTITY = ["principal", "session", "account"];
const ISSUED = ["scopes", "cache", "token_fingerprint", "expires_in"];
const SIGNED = ["grant_jti", "key", "upstream_status"];
const REQUEST_EVENTS = new Set(["token_issued", "token_denied", "token_rejected", "token_failed"]);

let fixture: ControlledBroker;
let output: CapturedOutput;
const grants: string[] = [];
const tokens: string[] = [];
const requestIds: string[] = [];
const statuses: number[] = [];

async function send(event: ReturnType<typeof tokenEvent>): Promise<Record<string, unknown>> {
  requestIds.push(event.requestContext.requestId);
  const response = await fixture.call(event);
  statuses.push(response.statusCode);
  const answer = JSON.parse(response.body) as Record<string, unknown>;
  if (typeof answer.access_token === "string") tokens.push(answer.access_token);
  return answer;
}

const sumMetric = (documents: Record<string, unknown>[], name: string): number =>
  documents.reduce((sum, doc) => {
    const value = doc[name];
    if (Array.isArray(value)) return sum + value.length;
    return sum + (typeof value === "number" ? 1 : 0);
  }, 0);

/** Lambda's application log-level filter as documented: a missing or unknown `level` counts as INFO. */
const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
const survivesLambdaFilter = (line: Record<string, unknown>, setting: string): boolean => {
  const level = LEVELS.indexOf(String(line.level ?? "").toUpperCase());
  return (level < 0 ? LEVELS.indexOf("INFO") : level) >= LEVELS.indexOf(setting);
};

beforeAll(async () => {
  // The whole scenario runs with both log levels at ERROR: audit records must not depend on them.
  vi.stubEnv("POWERTOOLS_LOG_LEVEL", "ERROR");
  vi.stubEnv("AWS_LAMBDA_LOG_LEVEL", "ERROR");
  fixture = await startControlledBroker({
    expiresIn: 120,
    env: { TOKEN_REFRESH_AHEAD_SECONDS: "15" },
    wrapFetch: (inner) => async (input, init) => {
      const assertion = new URLSearchParams(String(init?.body ?? "")).get("assertion");
      if (assertion !== null) grants.push(assertion);
      return inner(input, init);
    },
  });
  output = captureOutput();
  try {
    await scenario();
  } finally {
    output.restore();
  }
});

async function scenario(): Promise<void> {
  const mva = { scope: "skatteetaten:mva" };
  const altinn = { scope: "altinn:x", systemuser_org: SYSTEMUSER_ORG };
  await send(tokenEvent(mva));
  await send(tokenEvent(mva));
  await send(tokenEvent({ ...mva, consumer_org: CONSUMER_ORG }));
  await Promise.all(
    Array.from({ length: 5 }, () => send(tokenEvent({ scope: "skatteetaten:a-meldinger/les" }))),
  );
  await send(tokenEvent(mva, { identity: null }));
  await send(tokenEvent({ scope: "altinn:x" }));
  await send(tokenEvent({ scope: "bad  scope" }));
  await send(tokenEvent(undefined, { raw: "x".repeat(9000) }));
  fixture.emulator.injectFault({
    type: "status",
    status: 400,
    body: '{"error":"invalid_grant","error_description":"MP-124"}',
  });
  await send(tokenEvent(altinn, { identity: roleCaller("altinn-svc") }));
  await send(tokenEvent(altinn, { identity: roleCaller("altinn-svc") }));
  fixture.advance(31); // past REFUSAL_CACHE_SECONDS: the refusal is forgotten
  const down = { type: "status", status: 503 } as const;
  fixture.emulator.injectFault(down, down, down);
  await send(tokenEvent(altinn, { identity: roleCaller("altinn-svc") }));
  fixture.signer.failNext(1);
  await send(tokenEvent(altinn, { identity: roleCaller("altinn-svc") }));
  fixture.advance(49);
  await send(tokenEvent(mva));
  await vi.waitFor(() => {
    if (!output.json().some((line) => line.event === "token_refreshed")) throw new Error("no refresh yet");
  });
}
afterAll(async () => {
  vi.unstubAllEnvs();
  await fixture.close();
});

describe("audit trail over a full scenario, POWERTOOLS_LOG_LEVEL=ERROR and AWS_LAMBDA_LOG_LEVEL=ERROR", () => {
  it("ran the scenario it claims: hits, misses, coalescing, denials, bad input and upstream failures", () => {
    expect(statuses).toEqual([
      200, 200, 200, 200, 200, 200, 200, 200, 403, 403, 400, 413, 502, 502, 503, 503, 200,
    ]);
    expect(tokens.length).toBe(9);
    expect(grants.length).toBeGreaterThanOrEqual(6);
  });

  it("never writes an access token, a grant or private key material anywhere", () => {
    const key = createPrivateKey(fixture.privateKeyText).export({ format: "jwk" });
    const keyParts = [key.d, key.p, key.q, key.dp, key.dq, key.qi].filter(
      (v): v is string => v !== undefined,
    );
    const pemLines = fixture.privateKeyText
      .split("\n")
      .filter((line) => line.length > 20 && !line.startsWith("-----"));
    const secrets = [
      ...tokens,
      ...tokens.map((t) => t.split(".")[2] ?? t),
      ...grants,
      ...grants.map((g) => g.split(".")[2] ?? g),
      ...keyParts.map((part) => part.slice(0, 32)),
      ...pemLines,
    ];
    expect(output.lines.length).toBeGreaterThan(20);
    for (const line of output.lines) {
      for (const secret of secrets) expect(line.includes(secret), "a secret in the output").toBe(false);
      expect(line).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\./);
      expect(line).not.toMatch(/PRIVATE KEY/);
    }
  });

  it("at log level ERROR, every request still has its one audit record, which Lambda's ERROR filter keeps", () => {
    const audit = output.json().filter((line) => REQUEST_EVENTS.has(String(line.event)));
    expect(audit.map((r) => r.request_id).sort()).toEqual([...requestIds].sort());
    const kept = output
      .json()
      .filter((line) => survivesLambdaFilter(line, "ERROR") && REQUEST_EVENTS.has(String(line.event)));
    expect(kept).toHaveLength(requestIds.length);
    for (const setting of LEVELS) {
      expect(
        audit.every((line) => survivesLambdaFilter(line, setting)),
        setting,
      ).toBe(true);
    }
    // Diagnostics follow the level: nothing below ERROR came from the levelled logger.
    const levelled = output.json().filter((line) => typeof line.level === "string" && line.level !== "FATAL");
    expect(levelled.filter((line) => ["DEBUG", "INFO", "WARN"].includes(String(line.level)))).toEqual([]);
  });

  it("writes exactly one audit record per request, with every required field", () => {
    const records = output.json().filter((line) => REQUEST_EVENTS.has(String(line.event)));
    expect(records).toHaveLength(requestIds.length);
    expect(records.map((r) => r.request_id).sort()).toEqual([...requestIds].sort());
    for (const record of records) {
      for (const field of ALWAYS) expect(record, field).toHaveProperty(field);
      if (record.reason !== "the request carries no IAM identity") {
        for (const field of WITH_IDENTITY) expect(record, field).toHaveProperty(field);
      }
      if (record.event === "token_issued")
        for (const field of ISSUED) expect(record, field).toHaveProperty(field);
      if (record.cache === "miss") for (const field of SIGNED) expect(record, field).toHaveProperty(field);
      expect(record).not.toHaveProperty("access_token");
    }
    const issued = records.filter((r) => r.event === "token_issued");
    expect(issued.map((r) => r.cache).sort()).toEqual(
      ["coalesced", "coalesced", "coalesced", "coalesced", "hit", "hit", "miss", "miss", "miss"].sort(),
    );
    const fingerprints = new Set(
      tokens.map((t) => createHash("sha256").update(t).digest("hex").slice(0, 16)),
    );
    for (const record of issued) {
      expect(fingerprints.has(String(record.token_fingerprint))).toBe(true);
      expect(record.expires_in).toEqual(expect.any(Number));
      expect(record.principal).toMatch(/^arn:aws:iam::111122223333:role\//);
      expect(record.session).toBe("i-0abc");
      expect(record.vpce_id).toBe("vpce-0123456789abcdef0");
      expect(record.source_ip).toBe("10.0.0.7");
    }
    for (const miss of issued.filter((r) => r.cache === "miss")) {
      expect(miss.grant_jti).toEqual(expect.any(String));
      expect(miss.key).toMatch(/#broker-key-1$/);
      expect(miss.upstream_status).toBe(200);
    }
    expect(issued.filter((r) => r.consumer_org === CONSUMER_ORG)).toHaveLength(1);
    expect(issued.every((r) => Array.isArray(r.scopes))).toBe(true);
    const denied = records.filter((r) => r.event === "token_denied");
    expect(denied.map((r) => r.reason)).toEqual([
      "the request carries no IAM identity",
      "arn:aws:iam::111122223333:role/payroll-svc may not request scope altinn:x",
    ]);
    // The request's own fault apart from the broker's or Maskinporten's.
    const rejected = records.filter((r) => r.event === "token_rejected");
    expect(rejected.map((r) => r.code)).toEqual(["invalid_request", "payload_too_large"]);
    const failed = records.filter((r) => r.event === "token_failed");
    expect(failed.map((r) => [r.code, r.upstream_status ?? null, r.cache ?? null])).toEqual([
      ["upstream_rejected", 400, null],
      ["upstream_rejected", null, "refused"],
      ["upstream_unavailable", 503, null],
      ["signing_unavailable", null, null],
    ]);
    expect(failed[1]).not.toHaveProperty("grant_jti");
    const refreshed = output.json().filter((line) => line.event === "token_refreshed");
    expect(refreshed).toHaveLength(1);
    expect(refreshed[0]).toMatchObject({
      cache: "refresh",
      grant_jti: expect.any(String),
      upstream_status: 200,
    });
  });

  it("publishes the TokenBroker metrics in embedded metric format, which Lambda's filter keeps at every level", () => {
    const documents = output.json().filter((line) => typeof line._aws === "object");
    // Dropped documents would leave the alarms on SigningErrors and UpstreamErrors blind at log level WARN.
    for (const setting of LEVELS) {
      expect(
        documents.every((doc) => survivesLambdaFilter(doc, setting)),
        setting,
      ).toBe(true);
    }
    for (const doc of documents) {
      const aws = doc._aws as { CloudWatchMetrics: { Namespace: string }[] };
      expect(aws.CloudWatchMetrics[0]?.Namespace).toBe("TokenBroker");
    }
    expect(sumMetric(documents, "TokenRequests")).toBe(requestIds.length);
    expect(sumMetric(documents, "CacheHits")).toBe(2);
    expect(sumMetric(documents, "CacheMisses")).toBe(3);
    expect(sumMetric(documents, "Coalesced")).toBe(4);
    expect(sumMetric(documents, "Denied")).toBe(2);
    // Maskinporten's 400 is a refusal, counted apart; the three 503s are errors.
    expect(sumMetric(documents, "UpstreamErrors")).toBe(3);
    expect(sumMetric(documents, "UpstreamRejections")).toBe(1);
    expect(sumMetric(documents, "SigningErrors")).toBe(1);
    expect(sumMetric(documents, "SignLatency")).toBe(grants.length + 1);
    expect(sumMetric(documents, "UpstreamLatency")).toBe(grants.length);
  });
});
