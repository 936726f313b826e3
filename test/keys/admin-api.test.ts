import { describe, expect, it } from "vitest";
import { SELF_SERVICE_DEADLINE_MS, SelfServiceApi } from "../../lib/keys/admin-api.ts";
import { SelfServiceError } from "../../lib/keys/errors.ts";
import {
  ADMIN_SCOPES,
  type AdminScope,
  isAdministrationScope,
  scopeMatches,
} from "../../lib/policy/index.ts";
import type { HttpTransport } from "../../lib/upstream/transport.ts";
import { type VirtualClock, virtualClock } from "../support/virtual-clock.ts";

const TOKEN = "eyJhbGciOiJSUzI1NiJ9.secret-admin-token.sig";
const BASE = "https://api.test.samarbeid.digdir.no";

/** An API over a fetch that answers `status` with `body`, recording each call and each wait between retries. */
function apiAnswering(status: number, body: string) {
  const calls: { url: string; method: string; authorization: string; body?: string }[] = [];
  const scopes: AdminScope[] = [];
  const waits: number[] = [];
  const api = new SelfServiceApi(
    { baseUrl: `${BASE}/` },
    async (scope) => {
      scopes.push(scope);
      return TOKEN;
    },
    {
      fetch: async (input, init) => {
        const headers = new Headers(init?.headers);
        calls.push({
          url: String(input),
          method: init?.method ?? "GET",
          authorization: headers.get("authorization") ?? "",
          ...(init?.body === undefined ? {} : { body: String(init.body) }),
        });
        return new Response(body, { status });
      },
      sleep: async (ms) => {
        waits.push(ms);
      },
    },
  );
  return { api, calls, scopes, waits };
}

const caught = async (promise: Promise<unknown>): Promise<SelfServiceError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SelfServiceError);
  return error as SelfServiceError;
};

/** A transport that never answers: each call is held until its signal aborts, as fetch's is. */
function hangingTransport(clock: VirtualClock) {
  const started: number[] = [];
  const waiting: (() => void)[] = [];
  const transport: HttpTransport = (_url, request) => {
    started.push(clock.now);
    waiting.shift()?.();
    return new Promise((_, reject) => {
      const signal = request.signal;
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  };
  /** Resolves once the `n`th call has been made. */
  const called = (n: number): Promise<void> =>
    started.length >= n ? Promise.resolve() : new Promise((resolve) => waiting.push(resolve));
  return { transport, started, called };
}

describe("SelfServiceApi", () => {
  it("reads the set with a dcr.read token and keeps only the registered members", async () => {
    const answer = {
      created: "x",
      keys: [{ kty: "RSA", kid: "a", n: "n", e: "AQAB", exp: 1, extra: "dropped" }],
    };
    const { api, calls, scopes } = apiAnswering(200, JSON.stringify(answer));
    expect(await api.getJwks("client/1")).toEqual([{ kty: "RSA", kid: "a", n: "n", e: "AQAB", exp: 1 }]);
    expect(calls).toEqual([
      { url: `${BASE}/api/v1/clients/client%2F1/jwks`, method: "GET", authorization: `Bearer ${TOKEN}` },
    ]);
    expect(scopes).toEqual([ADMIN_SCOPES.read]);
  });

  it("posts the whole set and deletes with a dcr.write token", async () => {
    const { api, calls, scopes } = apiAnswering(200, '{"keys":[]}');
    await api.postJwks("c", [{ kty: "RSA", kid: "a" }]);
    await api.deleteJwks("c");
    expect(calls.map((c) => [c.method, c.body])).toEqual([
      ["POST", '{"keys":[{"kty":"RSA","kid":"a"}]}'],
      ["DELETE", undefined],
    ]);
    expect(scopes).toEqual([ADMIN_SCOPES.write, ADMIN_SCOPES.write]);
  });

  it.each([
    [
      403,
      "admin_rejected",
      '{"error":"insufficient_scope","error_description":"needs\\u0000 dcr.write"}',
      /HTTP 403: insufficient_scope needs dcr\.write$/,
    ],
    [404, "admin_rejected", "<html>not found</html>", /HTTP 404$/],
    [503, "admin_unavailable", "{}", /HTTP 503$/],
    [429, "admin_unavailable", "{}", /HTTP 429$/],
    [200, "admin_malformed", "<html>", /not a JWKS$/],
  ])("maps HTTP %i to %s, never quoting the token", async (status, code, body, message) => {
    const { api } = apiAnswering(status, body);
    const error = await caught(api.getJwks("c"));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(TOKEN);
  });

  it("retries a read on the shared schedule (three attempts), a refusal never", async () => {
    const down = apiAnswering(503, "{}");
    await caught(down.api.getJwks("c"));
    expect(down.calls.map((c) => c.method)).toEqual(["GET", "GET", "GET"]);
    expect(down.waits).toHaveLength(2);
    const refused = apiAnswering(403, "{}");
    await caught(refused.api.getJwks("c"));
    expect(refused.calls).toHaveLength(1);
  });

  it("tries a write once: a retry could overwrite what another writer posted since the read it was planned on", async () => {
    const { api, calls } = apiAnswering(503, "{}");
    expect((await caught(api.postJwks("c", [{ kty: "RSA", kid: "a" }]))).code).toBe("admin_unavailable");
    expect((await caught(api.deleteJwks("c"))).code).toBe("admin_unavailable");
    expect(calls.map((c) => c.method)).toEqual(["POST", "DELETE"]);
  });

  it("reports a network failure as admin_unavailable", async () => {
    const api = new SelfServiceApi({ baseUrl: BASE }, async () => TOKEN, {
      fetch: async () => {
        throw new TypeError("fetch failed");
      },
      sleep: async () => undefined,
    });
    expect((await caught(api.getJwks("c"))).message).toMatch(/network error$/);
  });

  it("ends a read that gets no answer when its attempts' timeouts fire on the injected alarm", async () => {
    const clock = virtualClock();
    const hung = hangingTransport(clock);
    const api = new SelfServiceApi({ baseUrl: BASE, timeoutMs: 10_000 }, async () => TOKEN, {
      fetch: hung.transport,
      monotonic: clock.monotonic,
      alarm: clock.alarm,
      sleep: clock.sleep,
      random: () => 0,
    });
    const read = caught(api.getJwks("c"));
    await hung.called(1);
    clock.advance(10_000);
    await hung.called(2);
    clock.advance(10_000);
    const error = await read;
    expect(error.code).toBe("admin_unavailable");
    expect(error.message).toBe(`GET ${BASE}/api/v1/clients/c/jwks: timed out`);
    // A third attempt would end past the 25 s budget: not started.
    expect(hung.started).toEqual([0, 10_100]);
  });

  it("ends a call at its deadline, the admin token's time included, whatever the attempt's own timeout", async () => {
    const clock = virtualClock();
    const hung = hangingTransport(clock);
    const slowToken = async () => {
      clock.advance(SELF_SERVICE_DEADLINE_MS - 2000);
      return TOKEN;
    };
    const api = new SelfServiceApi({ baseUrl: BASE, timeoutMs: 10_000 }, slowToken, {
      fetch: hung.transport,
      monotonic: clock.monotonic,
      alarm: clock.alarm,
    });
    const write = caught(api.deleteJwks("c"));
    await hung.called(1);
    clock.advance(1999);
    expect(hung.started).toEqual([SELF_SERVICE_DEADLINE_MS - 2000]);
    clock.advance(1);
    const error = await write;
    expect(error.code).toBe("admin_unavailable");
    expect(error.message).toBe(`DELETE ${BASE}/api/v1/clients/c/jwks: no answer before the call's deadline`);
    expect(clock.now).toBe(SELF_SERVICE_DEADLINE_MS);
  });

  it("asks only for scopes the policy never grants by a glob", () => {
    for (const scope of Object.values(ADMIN_SCOPES)) {
      expect(isAdministrationScope(scope)).toBe(true);
      expect(["*", "idporten:*", "idporten:dcr*"].some((glob) => scopeMatches(glob, scope))).toBe(false);
      expect(scopeMatches(scope, scope)).toBe(true);
    }
  });

  it("refuses a plain-http host other than loopback", () => {
    const token = async () => TOKEN;
    expect(() => new SelfServiceApi({ baseUrl: "http://api.samarbeid.digdir.no" }, token)).toThrow(/https/);
    expect(() => new SelfServiceApi({ baseUrl: "http://127.0.0.1:8080" }, token)).not.toThrow();
  });
});
