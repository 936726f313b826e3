import { Logger } from "@aws-lambda-powertools/logger";
import type { Context, ScheduledEvent } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { createKeyWatchHandler } from "../../functions/key-watch.ts";
import { loadKeyConfig } from "../../lib/config/index.ts";
import { KeyWatch, type KeyWatchSinks } from "../../lib/keys/index.ts";
import { CLIENT_SCOPES } from "../support/broker-fixture.ts";
import { CLIENT_ORG, closeKeyFixtures, type KeyFixture, startKeyFixture } from "../support/key-fixture.ts";
import { captureOutput } from "../support/output.ts";

afterEach(closeKeyFixtures);

const SCHEDULE = {
  "detail-type": "Scheduled Event",
  source: "aws.events",
  detail: {},
} as unknown as ScheduledEvent;
const CONTEXT = { awsRequestId: "key-watch-1", functionName: "key-watch" } as Context;

/** Runs the scheduled handler over the fixture's environment; returns its result (or error) and what it wrote. */
async function runWatch(fixture: KeyFixture, env: Record<string, string> = {}, sinks: KeyWatchSinks = {}) {
  const config = loadKeyConfig({ ...fixture.env, ...env });
  const handler = createKeyWatchHandler(() => KeyWatch.fromConfig(config, { now: fixture.now }, sinks));
  const output = captureOutput();
  try {
    const result = await handler(SCHEDULE, CONTEXT).catch((error: unknown) => error);
    return { result, records: output.json() };
  } finally {
    output.restore();
  }
}

type Doc = Record<string, unknown> & {
  _aws?: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
};
const metricDocs = (records: Record<string, unknown>[], name: string) =>
  (records as Doc[]).filter((r) => r._aws !== undefined && name in r);

describe("the scheduled key watch", () => {
  it("publishes RegisteredKeyDaysLeft per Client and Kid, and SigningKeyDaysLeft per Client", async () => {
    const fixture = await startKeyFixture(10, 1);
    const { result, records } = await runWatch(fixture);

    expect(result).toEqual([
      { client: "default", client_id: fixture.clientId, ok: false, signing_days_left: 10 },
    ]);
    const perKey = metricDocs(records, "RegisteredKeyDaysLeft");
    expect(perKey.map((d) => [d.Client, d.Kid, d.RegisteredKeyDaysLeft])).toEqual([
      ["default", fixture.kid, 10],
      ["default", "extra-0", 365],
    ]);
    for (const doc of perKey) {
      expect(doc._aws?.CloudWatchMetrics[0]).toMatchObject({
        Namespace: "TokenBroker",
        Dimensions: [["service", "Client", "Kid"]],
      });
    }
    const signing = metricDocs(records, "SigningKeyDaysLeft");
    expect(signing.map((d) => [d.Client, d.SigningKeyDaysLeft])).toEqual([["default", 10]]);
    expect(signing[0]?._aws?.CloudWatchMetrics[0]?.Dimensions).toEqual([["service", "Client"]]);
    // The level no application log level of Lambda's drops: the key-expiry alarm keeps its data at WARN.
    expect([...perKey, ...signing].map((d) => d.level)).toEqual(["FATAL", "FATAL", "FATAL"]);

    const status = records.find((r) => r.message === "key_status");
    expect(status).toMatchObject({
      level: "WARN",
      client: "default",
      client_id: fixture.clientId,
      signing_kid: fixture.kid,
      ok: false,
      warn_days: 30,
      reason: expect.stringContaining("expires in 10 days"),
    });
    expect(records.some((r) => r.message === "key_renewed")).toBe(false);
    // The grant signed for the admin token is audited like a token's, without the token.
    expect(records.filter((r) => r.message === "admin_token_issued")).toEqual([
      expect.objectContaining({
        client: "default",
        scope: "idporten:dcr.read",
        grants_signed: 1,
        grant_jti: expect.any(String),
        key: expect.stringContaining("signing-key.pem"),
        token_fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
      }),
    ]);
    expect(records.some((r) => JSON.stringify(r).includes("eyJ"))).toBe(false);
  });

  it("with KEY_AUTO_RENEW=true renews a key under the threshold and audits it, whatever the log level", async () => {
    const fixture = await startKeyFixture(10, 1);
    const silent = new Logger({ serviceName: "maskinporten-broker", logLevel: "SILENT" });
    const { result, records } = await runWatch(fixture, { KEY_AUTO_RENEW: "true" }, { logger: silent });

    expect(result).toEqual([
      { client: "default", client_id: fixture.clientId, ok: true, signing_days_left: 365, renewed: true },
    ]);
    const renewed = records.find((r) => r.message === "key_renewed");
    expect(renewed).toMatchObject({
      level: "FATAL",
      event: "key_renewed",
      client: "default",
      client_id: fixture.clientId,
      kid: fixture.kid,
      trigger: "key_watch",
      previous_expires_at: new Date(fixture.now() + 10 * 86_400_000).toISOString(),
      expires_at: new Date(fixture.now() + 365 * 86_400_000).toISOString(),
    });
    expect(metricDocs(records, "SigningKeyDaysLeft").map((d) => d.SigningKeyDaysLeft)).toEqual([365]);
    expect(records.filter((r) => r.message === "admin_token_issued").map((r) => r.scope)).toEqual([
      "idporten:dcr.read",
      "idporten:dcr.write",
    ]);
    expect(fixture.fixture.emulator.registeredKeys(fixture.clientId).map((k) => k.kid)).toEqual([
      fixture.kid,
      "extra-0",
    ]);
  });

  it("leaves a healthy key alone even with KEY_AUTO_RENEW=true", async () => {
    const fixture = await startKeyFixture(200);
    const { result, records } = await runWatch(fixture, { KEY_AUTO_RENEW: "true" });
    expect(result).toEqual([
      { client: "default", client_id: fixture.clientId, ok: true, signing_days_left: 200 },
    ]);
    expect(fixture.fixture.emulator.adminRequests.map((r) => r.method)).toEqual(["GET"]);
    expect(records.find((r) => r.message === "key_status")).toMatchObject({ level: "INFO", ok: true });
  });

  it("fails the invocation and counts KeyWatchErrors when the set cannot be read", async () => {
    const fixture = await startKeyFixture(200);
    fixture.fixture.emulator.registerClient({
      clientId: fixture.clientId,
      orgNumber: CLIENT_ORG,
      jwks: [(await fixture.fixture.signer.current()).jwk],
      scopes: CLIENT_SCOPES,
    });
    const { result, records } = await runWatch(fixture);
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toBe("key watch failed for default");
    expect(metricDocs(records, "KeyWatchErrors").map((d) => [d.Client, d.KeyWatchErrors, d.level])).toEqual([
      ["default", 1, "FATAL"],
    ]);
    expect(records.find((r) => r.message === "key_watch_failed")).toMatchObject({
      level: "ERROR",
      client: "default",
      error: expect.stringContaining("invalid_scope"),
    });
    expect(records.find((r) => r.message === "admin_token_failed")).toMatchObject({
      client: "default",
      scope: "idporten:dcr.read",
      grants_signed: 1,
      code: "upstream_rejected",
    });
  });

  it("reports 0 days for a signing key Maskinporten refuses, so the alarm fires", async () => {
    const fixture = await startKeyFixture(10);
    fixture.advanceDays(11);
    const { result, records } = await runWatch(fixture, { KEY_AUTO_RENEW: "true" });
    expect(result).toEqual([
      { client: "default", client_id: fixture.clientId, ok: false, signing_days_left: 0 },
    ]);
    expect(metricDocs(records, "SigningKeyDaysLeft").map((d) => d.SigningKeyDaysLeft)).toEqual([0]);
    expect(records.find((r) => r.message === "key_status")?.reason).toMatch(/MP-121/);
  });
});
