import { decodeJwt } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type MaskinportenEmulator, startMaskinportenEmulator } from "../../dev/maskinporten-emulator.ts";
import { AltinnExchange, type ExchangeAttempt } from "../../lib/altinn/exchange.ts";
import { MaskinportenClient } from "../../lib/maskinporten/client.ts";
import { UpstreamRejected, UpstreamUnavailable } from "../../lib/problem/index.ts";
import type { UpstreamDeps } from "../../lib/upstream/retry.ts";
import { asParsed } from "../support/request.ts";
import { freshFileSigner } from "../support/signer.ts";

const SCOPE = "altinn:serviceowner";
let emu: MaskinportenEmulator;
let maskinportenToken: string;

beforeAll(async () => {
  emu = await startMaskinportenEmulator();
  const { signer, key } = await freshFileSigner({ kid: "broker-1" });
  emu.registerClient({ clientId: "broker", jwks: [key.jwk], scopes: [SCOPE] });
  const client = new MaskinportenClient(
    { issuer: emu.issuer, tokenUrl: emu.tokenUrl, clientId: "broker", timeoutMs: 2000 },
    signer,
  );
  maskinportenToken = (await client.requestToken(asParsed({ scopes: [SCOPE] }))).token.access_token;
});
afterAll(() => emu.close());
beforeEach(() => {
  emu.altinn.clearFaults();
  emu.altinn.answerAs = "jwt";
});

/** An exchange client against the emulator whose waits are recorded, never slept. */
function harness(deps: Omit<UpstreamDeps, "randomUUID" | "onClockSkew"> = {}, timeoutMs = 2000) {
  const waits: number[] = [];
  const attempts: ExchangeAttempt[] = [];
  const client = new AltinnExchange(
    { url: emu.altinnExchangeUrl, timeoutMs },
    {
      sleep: async (ms) => {
        waits.push(ms);
      },
      ...deps,
    },
  );
  return { client, waits, attempts };
}

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => expect.unreachable("expected a rejection"),
    (error: unknown) => error,
  );

describe("AltinnExchange", () => {
  it("answers the Altinn token with a lifetime from its own exp, not the Maskinporten token's", async () => {
    const { client, attempts } = harness({ monotonic: () => 5000 });
    const token = await client.exchange(maskinportenToken, { exchangeAttempts: attempts });
    const { exp } = decodeJwt(token.accessToken);
    expect(emu.altinn.issued.at(-1)?.exp).toBe(exp);
    const lifetimeSeconds = (token.expiresAt - 5000) / 1000;
    expect(lifetimeSeconds).toBeGreaterThan(30 * 60 - 5);
    expect(lifetimeSeconds).toBeLessThanOrEqual(30 * 60);
    expect(attempts).toEqual([expect.objectContaining({ attempt: 1, upstreamStatus: 200, outcome: "ok" })]);
  });

  it("accepts the token as a JSON string as well as a bare JWT", async () => {
    emu.altinn.answerAs = "json-string";
    const { client } = harness();
    const token = await client.exchange(maskinportenToken);
    expect(token.accessToken).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(decodeJwt(token.accessToken).scope).toBe(SCOPE);
  });

  it("sends the Maskinporten token as Bearer with GET and never follows a redirect", async () => {
    const seen: RequestInit[] = [];
    const { client } = harness({
      fetch: async (url, init) => {
        seen.push(init ?? {});
        return globalThis.fetch(url, init);
      },
    });
    await client.exchange(maskinportenToken);
    expect(seen[0]).toMatchObject({
      method: "GET",
      redirect: "manual",
      headers: expect.objectContaining({ authorization: `Bearer ${maskinportenToken}` }),
    });
  });

  it("answers a redirect with upstream_unavailable naming Altinn, without following or retrying it", async () => {
    emu.altinn.injectFault({ type: "status", status: 302 });
    const before = emu.altinn.requests.length;
    const { client, attempts } = harness();
    const error = await rejection(client.exchange(maskinportenToken, { exchangeAttempts: attempts }));
    expect(error).toBeInstanceOf(UpstreamUnavailable);
    expect(error).toMatchObject({ upstream: "altinn", upstreamStatus: 302 });
    expect((error as UpstreamUnavailable).detail).toMatch(/ALTINN_EXCHANGE_URL/);
    expect(emu.altinn.requests.length - before).toBe(1);
  });

  it("maps Altinn's 401 to upstream_rejected naming Altinn, without retrying", async () => {
    const before = emu.altinn.requests.length;
    const { client, attempts } = harness();
    const error = await rejection(
      client.exchange("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", { exchangeAttempts: attempts }),
    );
    expect(error).toBeInstanceOf(UpstreamRejected);
    expect(error).toMatchObject({ upstream: "altinn", upstreamStatus: 401, status: 502 });
    expect((error as UpstreamRejected).detail).toMatch(/^Altinn answered 401/);
    expect(emu.altinn.requests.length - before).toBe(1);
    expect(attempts.map((a) => a.outcome)).toEqual(["http_401"]);
  });

  it("refuses a Maskinporten token once it has expired (401), as Altinn checks its lifetime", async () => {
    let offsetMs = 0;
    const clocked = await startMaskinportenEmulator({ now: () => Date.now() + offsetMs });
    try {
      const { signer, key } = await freshFileSigner({ kid: "broker-2" });
      clocked.registerClient({ clientId: "broker", jwks: [key.jwk], scopes: [SCOPE] });
      const source = new MaskinportenClient(
        { issuer: clocked.issuer, tokenUrl: clocked.tokenUrl, clientId: "broker", timeoutMs: 2000 },
        signer,
        { now: () => Date.now() + offsetMs },
      );
      const token = (await source.requestToken(asParsed({ scopes: [SCOPE] }))).token.access_token;
      const exchange = new AltinnExchange({ url: clocked.altinnExchangeUrl, timeoutMs: 2000 });
      await expect(exchange.exchange(token)).resolves.toHaveProperty("accessToken");
      offsetMs = 121_000;
      await expect(exchange.exchange(token)).rejects.toMatchObject({
        upstream: "altinn",
        upstreamStatus: 401,
      });
    } finally {
      await clocked.close();
    }
  });

  it("retries 5xx and gives up with upstream_unavailable naming Altinn and its Retry-After", async () => {
    emu.altinn.injectFault(
      { type: "status", status: 503 },
      { type: "status", status: 503 },
      { type: "status", status: 503, retryAfter: "2" },
    );
    const before = emu.altinn.requests.length;
    const { client, waits, attempts } = harness({ random: () => 0.5 });
    const error = await rejection(client.exchange(maskinportenToken, { exchangeAttempts: attempts }));
    expect(error).toBeInstanceOf(UpstreamUnavailable);
    expect(error).toMatchObject({ upstream: "altinn", upstreamStatus: 503, retryAfterSeconds: 2 });
    expect((error as UpstreamUnavailable).detail).toMatch(/^Altinn unavailable after 3 attempt/);
    expect(emu.altinn.requests.length - before).toBe(3);
    expect(waits).toEqual([150, 300]);
    expect(attempts.map((a) => a.outcome)).toEqual(["http_503", "http_503", "http_503"]);
  });

  it("recovers within the retries from a timeout, a dropped connection and a body that is not a token", async () => {
    emu.altinn.injectFault({ type: "delay", ms: 1000 }, { type: "drop" });
    const first = harness({}, 200);
    await expect(
      first.client.exchange(maskinportenToken, { exchangeAttempts: first.attempts }),
    ).resolves.toHaveProperty("accessToken");
    expect(first.attempts.map((a) => a.outcome)).toEqual(["timeout", "network", "ok"]);

    emu.altinn.injectFault({ type: "non-json" }, { type: "missing-expires-in" });
    const second = harness();
    await expect(
      second.client.exchange(maskinportenToken, { exchangeAttempts: second.attempts }),
    ).resolves.toHaveProperty("accessToken");
    expect(second.attempts.map((a) => a.outcome)).toEqual(["malformed_body", "malformed_body", "ok"]);
  });
});
