import { afterEach, describe, expect, it } from "vitest";
import { lambdaContext } from "../../dev/api-gateway-event.ts";
import { createTokenHandler } from "../../functions/token.ts";
import { createBroker } from "../../lib/broker/index.ts";
import { loadConfig } from "../../lib/config/index.ts";
import type { KeyStatusReport } from "../../lib/keys/index.ts";
import { ADMIN_SCOPES } from "../../lib/policy/index.ts";
import { keysCommand } from "../../scripts/cli/keys.ts";
import { CLIENT_SCOPES, tokenEvent } from "../support/broker-fixture.ts";
import { CLIENT_ORG, closeKeyFixtures, DAY_MS, startKeyFixture as setup } from "../support/key-fixture.ts";

afterEach(closeKeyFixtures);

const signingKey = (report: KeyStatusReport | undefined) => report?.keys.find((k) => k.signing);

describe("npm run keys -- status", () => {
  it("exits 1 and reports 9-10 days for a signing key with 10 days left", async () => {
    const s = await setup(10);
    const { code, report, err } = await s.keys("status");
    expect(code).toBe(1);
    expect(report).toMatchObject({ client_id: s.clientId, signing_kid: s.kid });
    const days = signingKey(report)?.days_left ?? -1;
    expect(days).toBeGreaterThanOrEqual(9);
    expect(days).toBeLessThanOrEqual(10);
    expect(signingKey(report)?.expires_at).toBe(new Date(s.now() + 10 * DAY_MS).toISOString());
    expect(err).toContain("KEY_EXPIRY_WARN_DAYS=30");
  });

  it("exits 0 when the signing key has more than KEY_EXPIRY_WARN_DAYS left", async () => {
    const s = await setup(200);
    const { code, report } = await s.keys("status");
    expect(code).toBe(0);
    expect(report?.keys).toEqual([expect.objectContaining({ kid: s.kid, signing: true, days_left: 200 })]);
  });

  it("exits 1 when the signing key is missing from the set (its own admin grant refused with MP-120)", async () => {
    const s = await setup(200, 1);
    // Removed behind the broker's back, as an operator in the portal could: only the other key stays.
    const other = s.fixture.emulator.registeredKeys(s.clientId)[1];
    expect(other?.kid).toBe("extra-0");
    s.fixture.emulator.registerClient({
      clientId: s.clientId,
      orgNumber: CLIENT_ORG,
      jwks: [],
      scopes: [...CLIENT_SCOPES, ADMIN_SCOPES.read],
    });
    const { code, report, err } = await s.keys("status");
    expect(code).toBe(1);
    expect(report).toEqual({ client_id: s.clientId, signing_kid: s.kid, keys: [] });
    expect(err).toMatch(/MP-120 .*not registered/);
  });

  it("exits 2 with a message on stderr when the admin client lacks the self-service scopes", async () => {
    const s = await setup(200);
    s.fixture.emulator.registerClient({
      clientId: s.clientId,
      orgNumber: CLIENT_ORG,
      jwks: [(await s.fixture.signer.current()).jwk],
      scopes: CLIENT_SCOPES,
    });
    const { code, out, err } = await s.keys("status");
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err).toMatch(/^keys: .*invalid_scope.*idporten:dcr\.read/);
  });
});

describe("npm run keys -- renew", () => {
  it("gives the signing key a new year: status then exits 0 with at least 360 days", async () => {
    const s = await setup(10, 1);
    const renewed = await s.keys("renew");
    expect(renewed.code).toBe(0);
    expect(signingKey(renewed.report)?.days_left).toBeGreaterThanOrEqual(360);
    const { code, report } = await s.keys("status");
    expect(code).toBe(0);
    expect(signingKey(report)?.days_left).toBeGreaterThanOrEqual(360);
    // The other key keeps its registration as it was: renew drops nothing and changes nothing else.
    expect(report?.keys.map((k) => k.kid)).toEqual([s.kid, "extra-0"]);
    expect(report?.keys[1]?.days_left).toBe(365);
  });

  it("cannot renew with a key Maskinporten no longer accepts, and says what to use instead", async () => {
    const s = await setup(10);
    s.fixture.emulator.registerClient({
      clientId: s.clientId,
      orgNumber: CLIENT_ORG,
      jwks: [],
      scopes: [ADMIN_SCOPES.read, ADMIN_SCOPES.write],
    });
    const { code, err } = await s.keys("renew");
    expect(code).toBe(2);
    expect(err).toMatch(/MP-120.*KEY_ADMIN_CLIENT/);
  });
});

describe("npm run keys -- rotate and retire", () => {
  it("rotate adds the new key beside the old ones without dropping any, and prints the steps left", async () => {
    const s = await setup(100, 2);
    const before = s.fixture.emulator.registeredKeys(s.clientId);
    const { code, report, err } = await s.keys(
      "rotate",
      "--to",
      await s.newKeyRef(),
      "--kid",
      "broker-key-2",
    );
    expect(code).toBe(0);
    expect(report?.keys.map((k) => k.kid)).toEqual([s.kid, "extra-0", "extra-1", "broker-key-2"]);
    const after = s.fixture.emulator.registeredKeys(s.clientId);
    // The old keys keep their expiry; the new one is registered for a year.
    expect(after.slice(0, 3)).toEqual(before);
    expect(after[3]?.exp).toBe(Math.floor(s.now() / 1000) + 365 * 86_400);
    expect(err).toContain("SIGNING_KID=broker-key-2");
    expect(err).toContain(`npm run keys -- retire --kid ${s.kid}`);
  });

  it("rotate waits until the set shows the new key", async () => {
    const s = await setup(100);
    const ref = await s.newKeyRef();
    let hidden = 2;
    const reads: string[] = [];
    const code = await keysCommand(
      ["rotate", "--to", ref, "--kid", "late-key"],
      { ...s.fixture.env, MASKINPORTEN_ADMIN_URL: s.fixture.emulator.url },
      { out: () => undefined, err: () => undefined },
      {
        now: s.now,
        sleep: async () => undefined,
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          if (!String(input).endsWith("/jwks") || init?.method !== "GET") return response;
          const body = (await response.json()) as { keys: { kid: string }[] };
          reads.push(body.keys.map((k) => k.kid).join(","));
          // The first reads after the post do not show it yet (the API is eventually consistent).
          if (body.keys.some((k) => k.kid === "late-key") && hidden-- > 0) {
            body.keys = body.keys.filter((k) => k.kid !== "late-key");
          }
          return Response.json(body);
        },
      },
    );
    expect(code).toBe(0);
    // status, the set before the post and its second read, then two reads that miss the new key and one that shows it.
    expect(reads).toHaveLength(6);
    expect(reads[5]).toContain("late-key");
  });

  it("rotate refuses a sixth key", async () => {
    const s = await setup(100, 4);
    const { code, err } = await s.keys("rotate", "--to", await s.newKeyRef(), "--kid", "sixth");
    expect(code).toBe(2);
    expect(err).toContain("5 keys");
    expect(s.fixture.emulator.registeredKeys(s.clientId)).toHaveLength(5);
  });

  it("retire refuses the signing key and removes another one", async () => {
    const s = await setup(100, 1);
    const refused = await s.keys("retire", "--kid", s.kid);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("the key the broker signs with");
    expect(s.fixture.emulator.registeredKeys(s.clientId)).toHaveLength(2);
    const retired = await s.keys("retire", "--kid", "extra-0");
    expect(retired.code).toBe(0);
    expect(retired.report?.keys.map((k) => k.kid)).toEqual([s.kid]);
  });

  it("carries admin tokens for idporten:dcr.read on reads and idporten:dcr.write on changes", async () => {
    const s = await setup(10, 1);
    await s.keys("renew");
    await s.keys("retire", "--kid", "extra-0");
    const calls = s.fixture.emulator.adminRequests.map((r) => [r.method, r.scopes.join(" "), r.status]);
    // Each change: the set, read again just before the post, the post, and a read that shows the change.
    const change = [
      ["GET", ADMIN_SCOPES.read, 200],
      ["GET", ADMIN_SCOPES.read, 200],
      ["POST", ADMIN_SCOPES.write, 200],
      ["GET", ADMIN_SCOPES.read, 200],
    ];
    expect(calls).toEqual([...change, ...change]);
  });
});

describe("an expired registration", () => {
  it("makes Maskinporten refuse the grant with MP-121, which the broker answers as upstream_rejected", async () => {
    const s = await setup(10);
    s.advanceDays(11);
    const broker = await createBroker(loadConfig(s.fixture.env), { upstream: { now: s.now } });
    const response = await createTokenHandler(Promise.resolve(broker))(
      tokenEvent({ scope: "skatteetaten:mva" }),
      lambdaContext("token"),
    );
    expect(response.statusCode).toBe(502);
    const problem = JSON.parse(response.body) as Record<string, unknown>;
    expect(problem).toMatchObject({ code: "upstream_rejected", upstream_error: "invalid_grant" });
    expect(problem.upstream_error_description).toMatch(/^MP-121 .*Expired key/);
    const status = await s.keys("status");
    expect(status.code).toBe(1);
    expect(status.err).toMatch(/MP-121 .*Expired key/);
  });
});
