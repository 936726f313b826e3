import type { Context, ScheduledEvent } from "aws-lambda";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { type MaskinportenEmulator, startMaskinportenEmulator } from "../../dev/maskinporten-emulator.ts";
import { createKeyWatchHandler } from "../../functions/key-watch.ts";
import { loadKeyConfig } from "../../lib/config/index.ts";
import { KeyWatch } from "../../lib/keys/index.ts";
import { ADMIN_SCOPES } from "../../lib/policy/index.ts";
import { FileSigner } from "../../lib/signer/file.ts";
import type { PublicJwk } from "../../lib/signer/signer.ts";
import { CLIENT_SCOPES } from "../support/broker-fixture.ts";
import { DAY_MS, runKeys } from "../support/key-fixture.ts";
import { captureOutput } from "../support/output.ts";
import { keyDirectory, keyFileText, newKey } from "../support/signer.ts";

const ORG = "974760673";
const PAYROLL = { name: "payroll", clientId: "mp-payroll", kid: "payroll-key-1" };
const ADMIN = { name: "keyadmin", clientId: "mp-keyadmin", kid: "admin-key-1" };

let nowMs = 0;
const now = () => nowMs;
let emulator: MaskinportenEmulator;
let dir: Awaited<ReturnType<typeof keyDirectory>>;
let env: Record<string, string>;
let payrollKey: string;
let adminKey: string;
const jwks: Record<string, PublicJwk> = {};

async function keyFile(name: string, kid: string): Promise<string> {
  const path = await dir.write(`${name}.pem`, keyFileText(newKey(), "pem"));
  jwks[name] = (await (await FileSigner.load(path, { alg: "RS256", kid })).current()).jwk;
  return `file:${path}`;
}

const exp = (days: number) => Math.floor((nowMs + days * DAY_MS) / 1000);

/** payroll's key registered with `days` left (or `jwk` instead); the admin client with the self-service scopes. */
function register(days: number, payrollKeys?: PublicJwk[]): void {
  emulator.registerClient({
    clientId: PAYROLL.clientId,
    orgNumber: ORG,
    jwks: payrollKeys ?? [{ ...(jwks.payroll as PublicJwk), exp: exp(days) }],
    scopes: CLIENT_SCOPES,
  });
  emulator.registerClient({
    clientId: ADMIN.clientId,
    orgNumber: ORG,
    jwks: [{ ...(jwks.keyadmin as PublicJwk), exp: exp(200) }],
    scopes: [ADMIN_SCOPES.read, ADMIN_SCOPES.write],
  });
}

beforeEach(async () => {
  nowMs = Date.UTC(2026, 10, 25, 12);
  if (emulator === undefined) {
    emulator = await startMaskinportenEmulator({ now });
    dir = await keyDirectory();
    payrollKey = await keyFile("payroll", PAYROLL.kid);
    adminKey = await keyFile("keyadmin", ADMIN.kid);
    const clients = [
      { name: PAYROLL.name, client_id: PAYROLL.clientId, signing_key: payrollKey, kid: PAYROLL.kid },
      { name: ADMIN.name, client_id: ADMIN.clientId, signing_key: adminKey, kid: ADMIN.kid },
    ];
    env = {
      MASKINPORTEN_ENV: "test",
      MASKINPORTEN_ISSUER: emulator.issuer,
      MASKINPORTEN_TOKEN_URL: emulator.tokenUrl,
      MASKINPORTEN_ADMIN_URL: emulator.url,
      CLIENTS: JSON.stringify({ clients }),
      KEY_ADMIN_CLIENT: ADMIN.name,
    };
  }
});
afterAll(async () => {
  await emulator.close();
  await dir.remove();
});

const keys = (...argv: string[]) => runKeys(argv, env, now);

describe("a separate admin client (KEY_ADMIN_CLIENT)", () => {
  it("reads the set even when the signing key is missing from it: exit 1, the set shown", async () => {
    const other = { ...(jwks.keyadmin as PublicJwk), kid: "someone-elses" };
    register(0, [other]);
    const { code, report, err } = await keys("status", "--client", PAYROLL.name);
    expect(code).toBe(1);
    expect(report).toEqual({
      client_id: PAYROLL.clientId,
      signing_kid: PAYROLL.kid,
      keys: [{ kid: "someone-elses", expires_at: expect.any(String), days_left: 365, signing: false }],
    });
    expect(err).toContain(`the signing key ${PAYROLL.kid} is not registered on client ${PAYROLL.clientId}`);
  });

  it("renews a key that has already expired, which the client's own token could not", async () => {
    register(10);
    nowMs += 11 * DAY_MS;
    const expired = await keys("status", "--client", PAYROLL.name);
    expect(expired.code).toBe(1);
    expect(expired.err).toContain("expired on");
    const renewed = await keys("renew", "--client", PAYROLL.name);
    expect(renewed.code).toBe(0);
    expect(renewed.report?.keys[0]?.days_left).toBeGreaterThanOrEqual(360);
    // Every self-service call carried a token the admin client asked for, never payroll's.
    const adminGrants = emulator.acceptedGrants.filter((g) => g.scope.startsWith("idporten:dcr"));
    expect(new Set(adminGrants.map((g) => g.iss))).toEqual(new Set([ADMIN.clientId]));
  });

  it("asks for --client when several clients are configured", async () => {
    register(100);
    const { code, err } = await keys("status");
    expect(code).toBe(2);
    expect(err).toContain("--client is required when several clients are configured (payroll, keyadmin)");
  });

  it("the scheduled watch covers every configured client", async () => {
    register(10);
    const config = loadKeyConfig(env);
    const handler = createKeyWatchHandler(() => KeyWatch.fromConfig(config, { now }));
    const output = captureOutput();
    let result: unknown;
    try {
      result = await handler({} as ScheduledEvent, {} as Context);
    } finally {
      output.restore();
    }
    expect(result).toEqual([
      { client: PAYROLL.name, client_id: PAYROLL.clientId, ok: false, signing_days_left: 10 },
      { client: ADMIN.name, client_id: ADMIN.clientId, ok: true, signing_days_left: 200 },
    ]);
    const days = output
      .json()
      .filter((r) => "SigningKeyDaysLeft" in r)
      .map((r) => [r.Client, r.SigningKeyDaysLeft]);
    expect(days).toEqual([
      [PAYROLL.name, 10],
      [ADMIN.name, 200],
    ]);
  });
});

describe("an admin client apart from the serving clients (KEY_ADMIN_CLIENT_ID, KEY_ADMIN_SIGNING_KEY)", () => {
  /** The one serving client in the single-client form; the admin client only in the key lifecycle's variables. */
  const separateEnv = () => ({
    MASKINPORTEN_ENV: "test",
    MASKINPORTEN_ISSUER: emulator.issuer,
    MASKINPORTEN_TOKEN_URL: emulator.tokenUrl,
    MASKINPORTEN_ADMIN_URL: emulator.url,
    MASKINPORTEN_CLIENT_ID: PAYROLL.clientId,
    SIGNING_KEY: payrollKey,
    SIGNING_KID: PAYROLL.kid,
    KEY_ADMIN_CLIENT: ADMIN.name,
    KEY_ADMIN_CLIENT_ID: ADMIN.clientId,
    KEY_ADMIN_SIGNING_KEY: adminKey,
    KEY_ADMIN_SIGNING_KID: ADMIN.kid,
  });

  it("is no serving client: the broker's configuration has only the serving client", () => {
    const config = loadKeyConfig(separateEnv());
    expect(config.clients.map((c) => c.name)).toEqual(["default"]);
    expect(config.keys.separateAdminClient).toMatchObject({ name: ADMIN.name, clientId: ADMIN.clientId });
  });

  it("renews the serving client's key with the admin client's token, and watches both registrations", async () => {
    register(10);
    const granted = emulator.acceptedGrants.length;
    const renewed = await runKeys(["renew", "--client", "default"], separateEnv(), now);
    expect(renewed.code).toBe(0);
    expect(renewed.report?.keys[0]?.days_left).toBeGreaterThanOrEqual(360);
    const adminGrants = emulator.acceptedGrants
      .slice(granted)
      .filter((g) => g.scope.startsWith("idporten:dcr"));
    expect(adminGrants.length).toBeGreaterThan(0);
    expect(new Set(adminGrants.map((g) => g.iss))).toEqual(new Set([ADMIN.clientId]));
    const watch = await KeyWatch.fromConfig(loadKeyConfig(separateEnv()), { now });
    const output = captureOutput();
    let result: unknown;
    try {
      result = await watch.run();
    } finally {
      output.restore();
    }
    expect(result).toEqual([
      { client: "default", client_id: PAYROLL.clientId, ok: true, signing_days_left: expect.any(Number) },
      { client: ADMIN.name, client_id: ADMIN.clientId, ok: true, signing_days_left: 200 },
    ]);
  });

  it("needs its own key and a name no serving client has", () => {
    const { KEY_ADMIN_SIGNING_KEY: _key, ...withoutKey } = separateEnv();
    expect(() => loadKeyConfig(withoutKey)).toThrow(
      /KEY_ADMIN_SIGNING_KEY: required with KEY_ADMIN_CLIENT_ID/,
    );
    expect(() => loadKeyConfig({ ...separateEnv(), KEY_ADMIN_CLIENT: "default" })).toThrow(
      /KEY_ADMIN_CLIENT: "default" is a serving client/,
    );
    const { KEY_ADMIN_CLIENT_ID: _id, ...withoutId } = separateEnv();
    expect(() => loadKeyConfig(withoutId)).toThrow(
      /KEY_ADMIN_SIGNING_KEY: set only with KEY_ADMIN_CLIENT_ID/,
    );
  });
});
