// Clocks through the token handler: the broker's wall clock off the emulator's by up to the skew Maskinporten
// tolerates still gets tokens (with a warning past 5 s); a lifetime shorter than min_ttl is never served as valid.
// Every clock is injected: the emulator's wall clock stands still, the broker's is the same plus an offset.
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AuditTrail } from "../../lib/audit/index.ts";
import type { BrokerDeps } from "../../lib/broker/index.ts";
import { type BrokerFixture, fixtureHandler, invoke, startBrokerFixture } from "../support/broker-fixture.ts";

const SCOPE = "skatteetaten:mva";
/** What the emulator (like Maskinporten) tolerates on iat/exp, seconds. */
const SKEW_SECONDS = 10;
const SHORT_LIFETIME = 20;
/** The emulator's wall clock, on a whole second so its Date header says exactly this. */
const NOW_MS = Date.UTC(2026, 10, 25, 12, 0, 0);

let fixture: BrokerFixture;
let shortLived: BrokerFixture;
beforeAll(async () => {
  fixture = await startBrokerFixture({ clockSkewSeconds: SKEW_SECONDS, now: () => NOW_MS });
  shortLived = await startBrokerFixture({ expiresIn: SHORT_LIFETIME, now: () => NOW_MS });
});
afterAll(async () => {
  await fixture.close();
  await shortLived.close();
});

/** The token handler of a broker whose wall clock is the emulator's plus `offsetSeconds`, its monotonic clock still. */
const handlerAt = (
  f: BrokerFixture,
  offsetSeconds: number,
  deps: BrokerDeps = {},
  env: Record<string, string> = {},
) =>
  fixtureHandler(f, env, {
    monotonic: () => 1_000_000,
    ...deps,
    upstream: { now: () => NOW_MS + offsetSeconds * 1000, ...deps.upstream },
  });

describe("broker clock against Maskinporten's", () => {
  it.each([
    { offsetSeconds: SKEW_SECONDS - 1, label: "ahead" },
    { offsetSeconds: -(SKEW_SECONDS - 1), label: "behind" },
  ])(
    "gets a token with its clock $label by $offsetSeconds s, and warns of the skew",
    async ({ offsetSeconds }) => {
      const logger = new Logger({ serviceName: "clock-test", logLevel: "SILENT" });
      const warn = vi.spyOn(logger, "warn");
      const token = handlerAt(fixture, offsetSeconds, { audit: new AuditTrail({ logger }) });
      const answer = await invoke(token, { scope: SCOPE });
      expect(answer.status).toBe(200);
      expect(answer.body.expires_in).toBe(120);
      // The grant's iat is the broker's clock, not the emulator's.
      expect(fixture.emulator.acceptedGrants.at(-1)?.iat).toBe(NOW_MS / 1000 + offsetSeconds);
      // The Date header says the emulator's clock: the skew seen is the offset, the other way round.
      const skews = warn.mock.calls.filter(([message]) => message === "maskinporten_clock_skew");
      expect(skews).toHaveLength(1);
      expect(skews[0]?.[1]).toMatchObject({ skew_ms: -offsetSeconds * 1000 });
    },
  );

  it("does not warn of a skew of 5 s or less", async () => {
    const logger = new Logger({ serviceName: "clock-test", logLevel: "SILENT" });
    const warn = vi.spyOn(logger, "warn");
    const answer = await invoke(handlerAt(fixture, 5, { audit: new AuditTrail({ logger }) }), {
      scope: SCOPE,
    });
    expect(answer.status).toBe(200);
    expect(warn.mock.calls.filter(([message]) => message === "maskinporten_clock_skew")).toEqual([]);
  });

  it("is refused by Maskinporten beyond the skew: 502 upstream_rejected with its error, not retried", async () => {
    const before = fixture.emulator.grantsReceived;
    const answer = await invoke(handlerAt(fixture, 5 * 60), { scope: SCOPE });
    expect(answer.status).toBe(502);
    expect(answer.body).toMatchObject({ code: "upstream_rejected", upstream_error: "invalid_grant" });
    expect(fixture.emulator.grantsReceived - before).toBe(1);
  });
});

describe("lifetimes against min_ttl", () => {
  it("never returns a fresh token that lives shorter than min_ttl, and does not cache the refusal", async () => {
    const token = handlerAt(shortLived, 0);
    const before = shortLived.emulator.grantsReceived;
    const refused = await invoke(token, { scope: SCOPE, min_ttl: SHORT_LIFETIME + 10 });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: "invalid_request" });
    expect(refused.body.detail).toMatch(/min_ttl/);
    expect(refused.body.access_token).toBeUndefined();

    const modest = await invoke(token, { scope: SCOPE, min_ttl: SHORT_LIFETIME / 2 });
    expect(modest.status).toBe(200);
    expect(modest.body.expires_in).toBe(SHORT_LIFETIME);
    expect(shortLived.emulator.grantsReceived - before).toBeLessThanOrEqual(2);
  });

  it("reports the remaining lifetime, always >= min_ttl, and fetches a new token once the cached one falls below it", async () => {
    let clock = 5_000_000;
    const token = handlerAt(fixture, 0, { monotonic: () => clock }, { TOKEN_REFRESH_AHEAD_SECONDS: "0" });
    const before = fixture.emulator.grantsReceived;
    const first = await invoke(token, { scope: SCOPE, min_ttl: 60 });
    expect(first.body.expires_in).toBe(120);
    for (const [advanceSeconds, expected] of [
      [30, 90],
      [29, 61],
      [1, 60],
    ] as const) {
      clock += advanceSeconds * 1000;
      const hit = await invoke(token, { scope: SCOPE, min_ttl: 60 });
      expect(hit).toMatchObject({ status: 200, headers: { "X-Token-Cache": "hit" } });
      expect(hit.body).toMatchObject({ access_token: first.body.access_token, expires_in: expected });
    }
    expect(fixture.emulator.grantsReceived - before).toBe(1);
    clock += 1000;
    const renewed = await invoke(token, { scope: SCOPE, min_ttl: 60 });
    expect(renewed.headers["X-Token-Cache"]).toBe("miss");
    expect(renewed.body.access_token).not.toBe(first.body.access_token);
    expect(renewed.body.expires_in).toBe(120);
    expect(fixture.emulator.grantsReceived - before).toBe(2);
  });
});
