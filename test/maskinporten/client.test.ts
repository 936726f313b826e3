import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type MaskinportenEmulator, startMaskinportenEmulator } from "../../dev/maskinporten-emulator.ts";
import { MaskinportenClient, type MaskinportenClientOptions } from "../../lib/maskinporten/client.ts";
import type { AttemptRecord } from "../../lib/maskinporten/types.ts";
import { SigningUnavailable, UpstreamRejected, UpstreamUnavailable } from "../../lib/problem/index.ts";
import type { Signer, SigningKey } from "../../lib/signer/signer.ts";
import type { UpstreamDeps } from "../../lib/upstream/retry.ts";
import { asParsed } from "../support/request.ts";
import { freshFileSigner } from "../support/signer.ts";

const SCOPE = "skatteetaten:mva";
let emu: MaskinportenEmulator;
let signer: Signer;
let key: SigningKey;

beforeAll(async () => {
  emu = await startMaskinportenEmulator();
  ({ signer, key } = await freshFileSigner({ kid: "broker-1" }));
  emu.registerClient({ clientId: "broker", jwks: [key.jwk], scopes: [SCOPE] });
});
afterAll(() => emu.close());
beforeEach(() => emu.clearFaults());

/** A client against the emulator whose waits are recorded, never slept. */
function harness(
  options: Partial<MaskinportenClientOptions> = {},
  { signer: activeSigner = signer, ...deps }: UpstreamDeps & { signer?: Signer } = {},
) {
  const waits: number[] = [];
  const attempts: AttemptRecord[] = [];
  const client = new MaskinportenClient(
    { issuer: emu.issuer, tokenUrl: emu.tokenUrl, clientId: "broker", timeoutMs: 2000, ...options },
    activeSigner,
    {
      sleep: async (ms) => {
        waits.push(ms);
      },
      ...deps,
    },
  );
  return { client, waits, attempts };
}

const problemOf = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => expect.unreachable("expected a rejection"),
    (error: unknown) => error,
  );

describe("MaskinportenClient", () => {
  it("returns the validated token, when it arrived on the monotonic clock, and one attempt record", async () => {
    let tick = 1000;
    const { client, attempts } = harness({}, { monotonic: () => (tick += 10) });
    const result = await client.requestToken(asParsed({ scopes: [SCOPE] }), { attempts });
    expect(result.token).toEqual({
      access_token: expect.any(String),
      token_type: "Bearer",
      expires_in: 120,
      scope: SCOPE,
    });
    expect(result.receivedAt).toBeGreaterThan(1000);
    expect(Object.keys(result).sort()).toEqual(["receivedAt", "token"]);
    expect(attempts).toEqual([
      expect.objectContaining({ attempt: 1, outcome: "ok", upstreamStatus: 200, keyRef: key.keyRef }),
    ]);
    expect(emu.acceptedGrants.at(-1)?.jti).toBe(attempts[0]?.grantJti);
  });

  it("retries 5xx with a new grant (new jti) each time, waiting a jittered, growing backoff", async () => {
    emu.injectFault({ type: "status", status: 503 }, { type: "status", status: 502 });
    const before = emu.requests.length;
    const { client, waits, attempts } = harness({}, { random: () => 0.5 });
    await client.requestToken(asParsed({ scopes: [SCOPE] }), { attempts });
    const jtis = emu.requests.slice(before).map((r) => r.jti);
    expect(jtis).toHaveLength(3);
    expect(new Set(jtis).size).toBe(3);
    expect(attempts.map((a) => a.outcome)).toEqual(["http_503", "http_502", "ok"]);
    expect(attempts.map((a) => a.grantJti)).toEqual(jtis);
    expect(waits).toEqual([150, 300]);
  });

  it("gives up after two retries with upstream_unavailable carrying the last status", async () => {
    emu.injectFault(...Array.from({ length: 3 }, () => ({ type: "status" as const, status: 500 })));
    const before = emu.grantsReceived;
    const { client, waits, attempts } = harness();
    const problem = await problemOf(client.requestToken(asParsed({ scopes: [SCOPE] }), { attempts }));
    expect(attempts.map((a) => a.outcome)).toEqual(["http_500", "http_500", "http_500"]);
    expect(problem).toBeInstanceOf(UpstreamUnavailable);
    expect(problem).toMatchObject({
      code: "upstream_unavailable",
      upstreamStatus: 500,
      retryAfterSeconds: 1,
    });
    expect(emu.grantsReceived - before).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it("honours a 429's Retry-After in seconds", async () => {
    emu.injectFault({ type: "status", status: 429, retryAfter: "2" });
    const { client, waits, attempts } = harness();
    await client.requestToken(asParsed({ scopes: [SCOPE] }), { attempts });
    expect(waits).toEqual([2000]);
    expect(attempts.map((a) => a.outcome)).toEqual(["http_429", "ok"]);
  });

  it("honours a Retry-After given as an HTTP date", async () => {
    const now = Date.now();
    emu.injectFault({ type: "status", status: 503, retryAfter: new Date(now + 2500).toUTCString() });
    const { client, waits } = harness({}, { now: () => now });
    await client.requestToken(asParsed({ scopes: [SCOPE] }));
    expect(waits[0]).toBeGreaterThanOrEqual(1500);
    expect(waits[0]).toBeLessThanOrEqual(2500);
  });

  it("does not wait out a Retry-After longer than its cap: fails at once and passes the wait on", async () => {
    emu.injectFault({ type: "status", status: 429, retryAfter: "120" });
    const { client, waits } = harness();
    const problem = await problemOf(client.requestToken(asParsed({ scopes: [SCOPE] })));
    expect(problem).toMatchObject({
      code: "upstream_unavailable",
      retryAfterSeconds: 120,
      upstreamStatus: 429,
    });
    expect(waits).toEqual([]);
  });

  it("never retries a 4xx: the OAuth error goes back as upstream_rejected", async () => {
    const before = emu.grantsReceived;
    const { client, waits } = harness();
    const problem = await problemOf(
      client.requestToken(asParsed({ scopes: ["skatteetaten:not-registered"] })),
    );
    expect(problem).toBeInstanceOf(UpstreamRejected);
    expect(problem).toMatchObject({
      upstreamStatus: 400,
      upstreamError: "invalid_scope",
      upstreamErrorDescription: expect.stringContaining("MP-200"),
    });
    expect(emu.grantsReceived - before).toBe(1);
    expect(waits).toEqual([]);
  });

  it("maps a 4xx without an OAuth body to error unknown, never echoing the body", async () => {
    emu.injectFault({ type: "status", status: 403, body: "<html>secret internals</html>" });
    const problem = await problemOf(harness().client.requestToken(asParsed({ scopes: [SCOPE] })));
    expect(problem).toMatchObject({ upstreamStatus: 403, upstreamError: "unknown" });
    expect(JSON.stringify(problem) + String((problem as Error).message)).not.toContain("secret internals");
  });

  it("bounds each attempt by the timeout and retries", async () => {
    emu.injectFault({ type: "delay", ms: 5000 });
    const { client, attempts } = harness({ timeoutMs: 200 });
    const started = performance.now();
    await client.requestToken(asParsed({ scopes: [SCOPE] }), { attempts });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(attempts.map((a) => a.outcome)).toEqual(["timeout", "ok"]);
    expect(attempts[0]?.upstreamStatus).toBeUndefined();
  });

  it("fails within the bound when every attempt times out", async () => {
    emu.injectFault(...Array.from({ length: 3 }, () => ({ type: "delay" as const, ms: 10_000 })));
    const { client } = harness({ timeoutMs: 150 });
    const started = performance.now();
    const problem = await problemOf(client.requestToken(asParsed({ scopes: [SCOPE] })));
    expect(performance.now() - started).toBeLessThan(3000);
    expect(problem).toBeInstanceOf(UpstreamUnavailable);
    expect((problem as Error).message).toContain("timeout");
  });

  it("stops retrying when another attempt would not fit in the time budget", async () => {
    emu.injectFault(...Array.from({ length: 3 }, () => ({ type: "status" as const, status: 503 })));
    const before = emu.grantsReceived;
    const { client } = harness({ timeoutMs: 3000, budgetMs: 3100 });
    await expect(client.requestToken(asParsed({ scopes: [SCOPE] }))).rejects.toBeInstanceOf(
      UpstreamUnavailable,
    );
    expect(emu.grantsReceived - before).toBe(1);
  });

  it("retries a malformed, non-JSON or incomplete success body", async () => {
    emu.injectFault({ type: "malformed-json" }, { type: "non-json" });
    const first = harness();
    await first.client.requestToken(asParsed({ scopes: [SCOPE] }), { attempts: first.attempts });
    expect(first.attempts.map((a) => a.outcome)).toEqual(["malformed_body", "malformed_body", "ok"]);

    emu.injectFault(...Array.from({ length: 3 }, () => ({ type: "missing-expires-in" as const })));
    const problem = await problemOf(harness().client.requestToken(asParsed({ scopes: [SCOPE] })));
    expect(problem).toMatchObject({ code: "upstream_unavailable", upstreamStatus: 200 });
  });

  it("retries a dropped connection as a network error", async () => {
    emu.injectFault({ type: "drop" });
    const { client, attempts } = harness();
    await client.requestToken(asParsed({ scopes: [SCOPE] }), { attempts });
    expect(attempts.map((a) => a.outcome)).toEqual(["network", "ok"]);
  });

  it("turns a signer's plain error into signing_unavailable and passes a signer's Problem through", async () => {
    const before = emu.grantsReceived;
    const broken: Signer = { current: async () => Promise.reject(new Error("disk on fire")) };
    const plain = await problemOf(
      harness({}, { signer: broken }).client.requestToken(asParsed({ scopes: [SCOPE] })),
    );
    expect(plain).toBeInstanceOf(SigningUnavailable);
    expect((plain as SigningUnavailable).detail).not.toContain("disk on fire");

    const throttled = new SigningUnavailable("KMS throttled", { retryAfterSeconds: 3 });
    const kms: Signer = { current: async () => ({ ...key, sign: () => Promise.reject(throttled) }) };
    const { client, attempts } = harness({}, { signer: kms });
    expect(await problemOf(client.requestToken(asParsed({ scopes: [SCOPE] }), { attempts }))).toBe(throttled);
    expect(attempts).toEqual([expect.objectContaining({ outcome: "signing_error", keyRef: key.keyRef })]);
    expect(emu.grantsReceived).toBe(before);
  });

  it("reports Maskinporten's clock when it differs from ours by more than 5 s", async () => {
    const skews: number[] = [];
    const { client } = harness({}, { now: () => Date.now() - 8000, onClockSkew: (ms) => skews.push(ms) });
    await client.requestToken(asParsed({ scopes: [SCOPE] }));
    expect(skews).toHaveLength(1);
    expect(skews[0]).toBeGreaterThan(6000);
    const quiet: number[] = [];
    await harness({}, { onClockSkew: (ms) => quiet.push(ms) }).client.requestToken(
      asParsed({ scopes: [SCOPE] }),
    );
    expect(quiet).toEqual([]);
  });
});

describe("redirects", () => {
  const transports = [
    { name: "the default transport", viaFetch: false },
    { name: "fetch", viaFetch: true },
  ];
  it.each(transports)(
    "never follows a redirect ($name): a 302 from the token URL is an error, and its Location gets no request",
    async ({ viaFetch }) => {
      const target: string[] = [];
      const elsewhere = createServer((request, response) => {
        target.push(request.url ?? "");
        response.end("{}");
      });
      await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
      const { port: targetPort } = elsewhere.address() as AddressInfo;
      const asked: string[] = [];
      const redirecting = createServer((request, response) => {
        asked.push(request.method ?? "");
        response.writeHead(302, { location: `http://127.0.0.1:${targetPort}/token` }).end();
      });
      await new Promise<void>((resolve) => redirecting.listen(0, "127.0.0.1", resolve));
      const { port } = redirecting.address() as AddressInfo;
      try {
        const redirectModes: unknown[] = [];
        const { client, attempts } = harness(
          { tokenUrl: `http://127.0.0.1:${port}/token` },
          viaFetch
            ? {
                fetch: async (url, init) => {
                  redirectModes.push(init.redirect);
                  return globalThis.fetch(url, init);
                },
              }
            : {},
        );
        const error = await problemOf(client.requestToken(asParsed({ scopes: [SCOPE] }), { attempts }));
        expect(error).toBeInstanceOf(UpstreamUnavailable);
        expect(error).toMatchObject({ upstreamStatus: 302, detail: expect.stringContaining("redirect") });
        if (viaFetch) expect(redirectModes).toEqual(["manual"]);
        expect(asked).toEqual(["POST"]);
        expect(target).toEqual([]);
        expect(attempts.map((a) => a.outcome)).toEqual(["http_302"]);
      } finally {
        await new Promise((resolve) => redirecting.close(resolve));
        await new Promise((resolve) => elsewhere.close(resolve));
      }
    },
  );
});
