// Two writers of one registered key set: the key watch's auto-renew and `npm run keys -- rotate`, interleaved on the emulator.
import { Logger } from "@aws-lambda-powertools/logger";
import { afterEach, describe, expect, it } from "vitest";
import { loadKeyConfig } from "../../lib/config/index.ts";
import { KeyWatch } from "../../lib/keys/index.ts";
import { ADMIN_SCOPES } from "../../lib/policy/index.ts";
import { type HttpTransport, nodeTransport } from "../../lib/upstream/transport.ts";
import { keysCommand } from "../../scripts/cli/keys.ts";
import { CLIENT_SCOPES } from "../support/broker-fixture.ts";
import {
  CLIENT_ORG,
  closeKeyFixtures,
  DAY_MS,
  type KeyFixture,
  startKeyFixture,
} from "../support/key-fixture.ts";
import { captureOutput } from "../support/output.ts";

afterEach(closeKeyFixtures);

const noWait = async () => undefined;

/** A transport to the emulator that runs `between` once, after its `nth` call of `method` to the key set was answered. */
function interleaved(method: "GET" | "POST", nth: number, between: () => Promise<void>): HttpTransport {
  const send = nodeTransport();
  let calls = 0;
  return async (url, request) => {
    const response = await send(url, request);
    if (url.endsWith("/jwks") && request.method === method && ++calls === nth) await between();
    return response;
  };
}

/** `npm run keys -- <argv>` in-process on the fixture's clock, over `transport` (default: the plain one). */
async function keys(s: KeyFixture, argv: string[], transport?: HttpTransport) {
  const err: string[] = [];
  const code = await keysCommand(
    argv,
    s.env,
    { out: () => undefined, err: (text) => void err.push(text) },
    { now: s.now, sleep: noWait, ...(transport === undefined ? {} : { fetch: transport }) },
  );
  return { code, err: err.join("") };
}

/** The key watch with KEY_AUTO_RENEW=true over `transport`; its output is captured, not printed. */
async function watch(s: KeyFixture, transport: HttpTransport) {
  const config = loadKeyConfig({ ...s.env, KEY_AUTO_RENEW: "true" });
  const output = captureOutput();
  try {
    const keyWatch = await KeyWatch.fromConfig(
      config,
      { now: s.now, sleep: noWait, fetch: transport },
      { logger: new Logger({ serviceName: "maskinporten-broker", logLevel: "SILENT" }) },
    );
    return await keyWatch.run();
  } finally {
    output.restore();
  }
}

const registered = (s: KeyFixture) => s.fixture.emulator.registeredKeys(s.clientId);
const inDays = (s: KeyFixture, days: number) => Math.floor((s.now() + days * DAY_MS) / 1000);

describe("the registered key set changed by two writers at once", () => {
  it("the key watch's renewal keeps the key a rotation added after the watch read the set", async () => {
    const s = await startKeyFixture(10, 1);
    const ref = await s.newKeyRef();
    let rotation: { code: number; err: string } | undefined;
    // Read 1 is the watch's status, read 2 the set its renewal is planned on: the whole rotation lands after it.
    const result = await watch(
      s,
      interleaved("GET", 2, async () => {
        rotation = await keys(s, ["rotate", "--to", ref, "--kid", "rotated-key"]);
      }),
    );
    expect(rotation?.code).toBe(0);
    expect(result).toEqual([expect.objectContaining({ ok: true, renewed: true })]);
    expect(registered(s)).toEqual([
      { kid: s.kid, exp: inDays(s, 365) },
      { kid: "extra-0", exp: inDays(s, 365) },
      { kid: "rotated-key", exp: inDays(s, 365) },
    ]);
  });

  it("a rotation keeps the renewal the key watch posted after the rotation read the set", async () => {
    const s = await startKeyFixture(10);
    const ref = await s.newKeyRef();
    // Read 1 is the command's status, read 2 the set the rotation is planned on: the watch renews right after it.
    const rotation = await keys(
      s,
      ["rotate", "--to", ref, "--kid", "rotated-key"],
      interleaved("GET", 2, async () => {
        expect(await watch(s, nodeTransport())).toEqual([expect.objectContaining({ renewed: true })]);
      }),
    );
    expect(rotation.code).toBe(0);
    expect(registered(s)).toEqual([
      { kid: s.kid, exp: inDays(s, 365) },
      { kid: "rotated-key", exp: inDays(s, 365) },
    ]);
  });

  it("a rotation whose kept key is gone right after its post says so and exits 2", async () => {
    const s = await startKeyFixture(100, 1);
    const { jwk } = await s.fixture.signer.current();
    // Another writer posts a set without extra-0 right after the rotation's post, before its check.
    const rotation = await keys(
      s,
      ["rotate", "--to", await s.newKeyRef(), "--kid", "rotated-key"],
      interleaved("POST", 1, async () => {
        s.fixture.emulator.registerClient({
          clientId: s.clientId,
          orgNumber: CLIENT_ORG,
          jwks: [jwk],
          scopes: [...CLIENT_SCOPES, ADMIN_SCOPES.read, ADMIN_SCOPES.write],
        });
      }),
    );
    expect(rotation.code).toBe(2);
    expect(rotation.err).toMatch(
      /^keys: key extra-0 was removed by another change just after this one posted/,
    );
    expect(registered(s).map((k) => k.kid)).toEqual([s.kid]);
  });
});
