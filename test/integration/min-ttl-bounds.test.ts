// min_ttl cannot defeat the cache, through the token handler against the emulator on a clock the test moves: a key
// costs at most two grants per token lifetime, and a min_ttl the broker cannot meet within that is a clear 400.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditTrail } from "../../lib/audit/index.ts";
import { type BrokerFixture, fixtureHandler, invoke, startBrokerFixture } from "../support/broker-fixture.ts";

const SCOPE = "skatteetaten:mva";
const LIFETIME = 120;

let fixture: BrokerFixture;
beforeAll(async () => {
  fixture = await startBrokerFixture({ expiresIn: LIFETIME });
});
afterAll(() => fixture.close());

/**
 * `count` requests 1 s apart on a broker whose clock moves only between them (default refresh-ahead, 15 s): their
 * statuses and details, and the second of every grant posted, a background refresh's included. Every grant ends in
 * an audit record that counts it (`grants_signed`): each request waits for those of the grants it set off, so no
 * load is still under way when the clock moves.
 */
async function everySecond(
  count: number,
  minTtl: number,
): Promise<{ statuses: number[]; details: unknown[]; grantAt: number[] }> {
  let clock = 1_000_000;
  let second = 0;
  const grantAt: number[] = [];
  let audited = 0;
  let onAudit: (() => void) | undefined;
  const token = fixtureHandler(
    fixture,
    {},
    {
      monotonic: () => clock,
      upstream: {
        fetch: (url, init) => {
          grantAt.push(second);
          return globalThis.fetch(url, init);
        },
      },
      audit: new AuditTrail({
        write: (text) => {
          for (const line of text.split("\n").filter(Boolean)) {
            audited += Number((JSON.parse(line) as { grants_signed?: number }).grants_signed ?? 0);
          }
          onAudit?.();
        },
      }),
    },
  );
  const statuses: number[] = [];
  const details: unknown[] = [];
  for (; second < count; second++) {
    const answer = await invoke(token, { scope: SCOPE, min_ttl: minTtl });
    while (audited < grantAt.length) await new Promise<void>((resolve) => (onAudit = resolve));
    statuses.push(answer.status);
    details.push(answer.body.detail);
    clock += 1000;
  }
  return { statuses, details, grantAt };
}

const atMostTwoPerLifetime = (grantAt: readonly number[]) =>
  grantAt.every((at) => grantAt.filter((other) => other >= at && other < at + LIFETIME).length <= 2);

describe("min_ttl cannot defeat the cache", () => {
  it("min_ttl 119 with 120 s tokens, 60 requests 1 s apart: one grant, and each answer a 400 that says why", async () => {
    const { statuses, details, grantAt } = await everySecond(60, 119);
    expect(grantAt).toEqual([0]);
    expect(statuses).toEqual(Array(60).fill(400));
    for (const detail of details) {
      expect(detail).toBe(
        "min_ttl: Maskinporten issues tokens for this request valid for 120 s; min_ttl may be at most half of that (60 s), so that one token serves many requests",
      );
    }
  });

  it("min_ttl 60 (half the lifetime) with 120 s tokens, 360 requests 1 s apart: all served, at most two grants per lifetime", async () => {
    const { statuses, details, grantAt } = await everySecond(360, 60);
    expect(statuses, JSON.stringify(details.filter(Boolean).slice(0, 3))).toEqual(Array(360).fill(200));
    expect(atMostTwoPerLifetime(grantAt)).toBe(true);
    // Served from the cache between grants: a grant every half lifetime at most (6 in 360 s).
    expect(grantAt.length).toBeLessThanOrEqual(360 / (LIFETIME / 2));
  });

  it("min_ttl 61 is refused the same way, and a caller asking 60 for the same key is still served", async () => {
    const token = fixtureHandler(fixture);
    const refused = await invoke(token, { scope: SCOPE, min_ttl: 61 });
    expect(refused).toMatchObject({ status: 400, body: { code: "invalid_request" } });
    expect(String(refused.body.detail)).toMatch(/^min_ttl: .* at most half of that \(60 s\)/);
    const served = await invoke(token, { scope: SCOPE, min_ttl: 60 });
    expect(served).toMatchObject({ status: 200, headers: { "X-Token-Cache": "hit" } });
  });
});
