import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../../dev/gateway.ts";
import { createSigV4Verifier } from "../../dev/sigv4.ts";
import { createTokenClient, TokenBrokerError, type TokenClientOptions } from "../../lib/client/index.ts";
import { PID_A, PID_B } from "../support/pid.ts";

const REGION = "eu-north-1";
const CREDENTIALS = { accessKeyId: "AKIACLIENTTEST000001", secretAccessKey: "c".repeat(40) };

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** A stand-in for the deployed broker behind the local gateway (SigV4 checked), counting what gets through. */
interface FakeBroker {
  url: string;
  requests: unknown[];
  /** Replies for the next requests, in order; after them every request gets a fresh token. */
  replies: Reply[];
}

let gateway: RunningGateway;
const broker: FakeBroker = { url: "", requests: [], replies: [] };

const verify = createSigV4Verifier({
  region: REGION,
  lookup: (id) =>
    id === CREDENTIALS.accessKeyId
      ? {
          secretAccessKey: CREDENTIALS.secretAccessKey,
          principalArn: "arn:aws:iam::000000000000:role/caller",
        }
      : undefined,
});

function token(n: number, scope: string): Reply {
  return { status: 200, body: { access_token: `token-${n}`, token_type: "Bearer", expires_in: 120, scope } };
}

beforeAll(async () => {
  gateway = await startGateway({
    host: "127.0.0.1",
    port: 0,
    authenticate: verify,
    routes: [
      {
        method: "POST",
        resource: "/prod/token",
        functionName: "fake-token",
        handler: async (event) => {
          const request = JSON.parse(event.body ?? "{}");
          broker.requests.push(request);
          const reply = broker.replies.shift() ?? token(broker.requests.length, request.scope);
          return {
            statusCode: reply.status,
            headers: { "content-type": "application/json", ...reply.headers },
            body: JSON.stringify(reply.body),
          };
        },
      },
    ],
  });
  broker.url = `${gateway.url}/prod`;
});

afterAll(() => gateway.close());

beforeEach(() => {
  broker.requests = [];
  broker.replies = [];
});

function problem(status: number, code: string, extra: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "application/problem+json" },
    body: {
      type: `https://x/problems/${code}`,
      title: code,
      status,
      code,
      detail: `${code} detail`,
      ...extra,
    },
  };
}

function client(overrides: Partial<TokenClientOptions> = {}) {
  let clock = 1_000_000;
  const waits: number[] = [];
  const tokenClient = createTokenClient({
    endpoint: broker.url,
    region: REGION,
    credentials: CREDENTIALS,
    now: () => clock,
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
  return { tokenClient, waits, advance: (ms: number) => (clock += ms) };
}

describe("createTokenClient", () => {
  it("gets a token with a SigV4-signed POST carrying only the fields the broker knows", async () => {
    const { tokenClient } = client();
    const result = await tokenClient.getToken({
      scope: "skatteetaten:mva",
      consumer_org: "910000000",
      min_ttl: 60,
    });
    expect(result).toEqual({
      access_token: "token-1",
      token_type: "Bearer",
      expires_in: 120,
      scope: "skatteetaten:mva",
    });
    expect(broker.requests).toEqual([{ scope: "skatteetaten:mva", consumer_org: "910000000", min_ttl: 60 }]);
  });

  it("returns the cached token without a second request while min_ttl holds, then fetches a new one", async () => {
    const { tokenClient, advance } = client();
    await tokenClient.getToken({ scope: "a:b c:d", min_ttl: 60 });
    advance(59_500);
    const cached = await tokenClient.getToken({ scope: "c:d a:b a:b", min_ttl: 60 });
    expect(cached).toMatchObject({ access_token: "token-1", expires_in: 60 });
    expect(broker.requests).toHaveLength(1);
    advance(1_000);
    const fresh = await tokenClient.getToken({ scope: "a:b c:d", min_ttl: 60 });
    expect(fresh).toMatchObject({ access_token: "token-2", expires_in: 120 });
    expect(broker.requests).toHaveLength(2);
  });

  it("keeps different requests apart in the cache", async () => {
    const { tokenClient } = client();
    await tokenClient.getToken({ scope: "a:b" });
    await tokenClient.getToken({ scope: "a:b", consumer_org: "910000000" });
    await tokenClient.getToken({ scope: "a:b", resource: "https://api.example.no" });
    expect(broker.requests).toHaveLength(3);
  });

  it("sends client and keeps the same request for two clients apart in the cache", async () => {
    const { tokenClient } = client();
    const payroll = await tokenClient.getToken({ scope: "a:b", client: "payroll" });
    const vat = await tokenClient.getToken({ scope: "a:b", client: "vat" });
    expect(await tokenClient.getToken({ scope: "a:b", client: "payroll" })).toEqual(payroll);
    expect(vat.access_token).not.toBe(payroll.access_token);
    expect(broker.requests).toEqual([
      { scope: "a:b", min_ttl: 30, client: "payroll" },
      { scope: "a:b", min_ttl: 30, client: "vat" },
    ]);
  });

  it("keeps each person's pid token and the exchanged token apart, and sends both fields", async () => {
    const { tokenClient } = client();
    const tokens = [
      await tokenClient.getToken({ scope: "a:b", pid: PID_A }),
      await tokenClient.getToken({ scope: "a:b", pid: PID_B }),
      await tokenClient.getToken({ scope: "a:b" }),
      await tokenClient.getToken({ scope: "a:b", exchange: "altinn" }),
      await tokenClient.getToken({ scope: "a:b", pid: PID_A }),
    ].map((t) => t.access_token);
    expect(new Set(tokens.slice(0, 4)).size).toBe(4);
    expect(tokens[4]).toBe(tokens[0]);
    expect(broker.requests.slice(0, 2)).toEqual([
      { scope: "a:b", pid: PID_A, min_ttl: 30 },
      { scope: "a:b", pid: PID_B, min_ttl: 30 },
    ]);
    expect(broker.requests[3]).toEqual({ scope: "a:b", exchange: "altinn", min_ttl: 30 });
  });

  it("sends externalRef, consent and onbehalfof, and keeps requests that differ in them apart", async () => {
    const { tokenClient } = client();
    const consent = { id: "77ed8698-e619-4066-9eb4-5c1eb3f165a1", from: PID_A };
    const tokens = [
      await tokenClient.getToken({ scope: "a:b", systemuser_org: "910000000" }),
      await tokenClient.getToken({
        scope: "a:b",
        systemuser_org: "910000000",
        systemuser_external_ref: "r-1",
      }),
      await tokenClient.getToken({ scope: "a:b", consent }),
      await tokenClient.getToken({ scope: "a:b", consent: { ...consent, from: PID_B } }),
      await tokenClient.getToken({ scope: "a:b", onbehalfof: "kunde-1" }),
      await tokenClient.getToken({ scope: "a:b", consent: { ...consent } }),
    ].map((t) => t.access_token);
    expect(new Set(tokens.slice(0, 5)).size).toBe(5);
    expect(tokens[5]).toBe(tokens[2]);
    expect(broker.requests.slice(1, 3)).toEqual([
      { scope: "a:b", systemuser_org: "910000000", systemuser_external_ref: "r-1", min_ttl: 30 },
      { scope: "a:b", consent, min_ttl: 30 },
    ]);
    expect(broker.requests[4]).toEqual({ scope: "a:b", onbehalfof: "kunde-1", min_ttl: 30 });
  });

  it("coalesces 100 concurrent calls into one request", async () => {
    const { tokenClient } = client();
    const results = await Promise.all(
      Array.from({ length: 100 }, () => tokenClient.getToken({ scope: "skatteetaten:mva" })),
    );
    expect(broker.requests).toHaveLength(1);
    expect(new Set(results.map((r) => r.access_token))).toEqual(new Set(["token-1"]));
  });

  it("retries a 429 after its Retry-After", async () => {
    broker.replies.push({ ...problem(429, "rate_limited"), headers: { "retry-after": "1" } });
    const { tokenClient, waits } = client();
    const result = await tokenClient.getToken({ scope: "skatteetaten:mva" });
    expect(waits).toEqual([1000]);
    expect(broker.requests).toHaveLength(2);
    expect(result.access_token).toBe("token-2");
  });

  it("retries a 429 without Retry-After with growing backoff, then gives up with the code", async () => {
    for (let i = 0; i < 3; i++) broker.replies.push(problem(429, "rate_limited"));
    const { tokenClient, waits } = client({ maxRetries: 2 });
    const error = await tokenClient.getToken({ scope: "skatteetaten:mva" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenBrokerError);
    expect(error).toMatchObject({ code: "rate_limited", status: 429 });
    expect(broker.requests).toHaveLength(3);
    expect(waits).toEqual([150, 300]);
  });

  it.each(["upstream_unavailable", "signing_unavailable"])(
    "does not retry a 503 %s: the broker already retried, and a retry would sign more grants",
    async (code) => {
      broker.replies.push({ ...problem(503, code), headers: { "retry-after": "1" } });
      const { tokenClient, waits } = client();
      const error = await tokenClient.getToken({ scope: "skatteetaten:mva" }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code, status: 503, retry_after: 1 });
      expect(broker.requests).toHaveLength(1);
      expect(waits).toEqual([]);
    },
  );

  it("does not wait for a Retry-After beyond its bound", async () => {
    broker.replies.push({ ...problem(429, "rate_limited"), headers: { "retry-after": "120" } });
    const { tokenClient, waits } = client();
    const error = await tokenClient.getToken({ scope: "skatteetaten:mva" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "rate_limited", retry_after: 120 });
    expect(waits).toEqual([]);
  });

  it("surfaces problem+json as TokenBrokerError with code, status, detail and upstream_error; not cached", async () => {
    broker.replies.push(
      problem(502, "upstream_rejected", {
        upstream: "maskinporten",
        upstream_error: "invalid_scope",
        upstream_error_description: "nope",
      }),
      problem(403, "access_denied", { request_id: "req-1" }),
    );
    const { tokenClient, waits } = client();
    const rejected = await tokenClient.getToken({ scope: "x:y" }).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(TokenBrokerError);
    expect(rejected).toMatchObject({
      code: "upstream_rejected",
      status: 502,
      detail: "upstream_rejected detail",
      upstream: "maskinporten",
      upstream_error: "invalid_scope",
      upstream_error_description: "nope",
    });
    const denied = await tokenClient.getToken({ scope: "x:y" }).catch((e: unknown) => e);
    expect(denied).toMatchObject({ code: "access_denied", status: 403, request_id: "req-1" });
    expect(waits).toEqual([]);
    expect((await tokenClient.getToken({ scope: "x:y" })).access_token).toBe("token-3");
  });

  it("delivers one failure to all coalesced callers", async () => {
    broker.replies.push(problem(403, "access_denied"));
    const { tokenClient } = client();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => tokenClient.getToken({ scope: "x:y" })),
    );
    expect(broker.requests).toHaveLength(1);
    expect(outcomes.every((o) => o.status === "rejected" && o.reason.code === "access_denied")).toBe(true);
  });

  it("reports API Gateway's refusal of a bad signature as gateway_rejected", async () => {
    const { tokenClient } = client({ credentials: { ...CREDENTIALS, secretAccessKey: "w".repeat(40) } });
    const error = await tokenClient.getToken({ scope: "x:y" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "gateway_rejected", status: 403 });
    expect((error as TokenBrokerError).detail).toContain("signature we calculated does not match");
    expect(broker.requests).toHaveLength(0);
  });

  it("retries a connection that never opened, then reports network_error", async () => {
    let calls = 0;
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const { tokenClient, waits } = client({
      fetch: async () => {
        calls++;
        throw new TypeError("fetch failed", { cause: refused });
      },
    });
    const error = await tokenClient.getToken({ scope: "x:y" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "network_error", status: 0 });
    expect(calls).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it("does not retry a connection lost after the request was sent (the broker may have signed)", async () => {
    let calls = 0;
    const reset = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
    const { tokenClient } = client({
      fetch: async () => {
        calls++;
        throw new TypeError("fetch failed", { cause: reset });
      },
    });
    await expect(tokenClient.getToken({ scope: "x:y" })).rejects.toMatchObject({ code: "network_error" });
    expect(calls).toBe(1);
  });

  it("rejects a 200 that is not a token response without echoing it", async () => {
    broker.replies.push({ status: 200, body: { access_token: "secret-ish" } });
    const { tokenClient } = client();
    const error = await tokenClient.getToken({ scope: "x:y" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "invalid_response", status: 200 });
    expect(String(error)).not.toContain("secret-ish");
  });

  it("signs with the standard AWS credential chain when no credentials are given", async () => {
    const saved = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = CREDENTIALS.secretAccessKey;
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    try {
      const tokenClient = createTokenClient({ endpoint: `${broker.url}/`, region: REGION });
      expect((await tokenClient.getToken({ scope: "x:y" })).access_token).toBe("token-1");
    } finally {
      process.env = saved;
    }
  });
});
