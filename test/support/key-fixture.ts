// Test support: the broker's client on the emulator with its signing key registered for a chosen number of days, a shared clock, and the keys command.

import type { KeyStatusReport } from "../../lib/keys/index.ts";
import { ADMIN_SCOPES } from "../../lib/policy/index.ts";
import { FileSigner } from "../../lib/signer/file.ts";
import { keysCommand } from "../../scripts/cli/keys.ts";
import { type BrokerFixture, CLIENT_SCOPES, startBrokerFixture } from "./broker-fixture.ts";
import { keyDirectory, keyFileText, newKey } from "./signer.ts";

export const DAY_MS = 86_400_000;
export const CLIENT_ORG = "974760673";

export interface KeysRun {
  code: number;
  out: string;
  err: string;
  /** The status report printed on stdout, if any. */
  report?: KeyStatusReport;
}

/** Runs `npm run keys -- <argv>` in-process over `env`, on the clock `now`, without waiting for real. */
export async function runKeys(
  argv: readonly string[],
  env: Record<string, string>,
  now: () => number,
): Promise<KeysRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await keysCommand(
    argv,
    env,
    { out: (t) => void out.push(t), err: (t) => void err.push(t) },
    { now, sleep: async () => undefined },
  );
  const printed = out.join("");
  const report = printed.startsWith("{") ? (JSON.parse(printed) as KeyStatusReport) : undefined;
  return { code, out: printed, err: err.join(""), ...(report === undefined ? {} : { report }) };
}

export interface KeyFixture {
  fixture: BrokerFixture;
  clientId: string;
  kid: string;
  /** Moves the wall clock of the emulator, the broker and the key commands. */
  advanceDays(days: number): void;
  now(): number;
  /** The environment of the function and the CLI: the fixture's plus the emulator as self-service API. */
  env: Record<string, string>;
  keys(...argv: string[]): Promise<KeysRun>;
  /** A second key on disk, as a SIGNING_KEY value. */
  newKeyRef(): Promise<string>;
}

let cleanup: (() => Promise<void>)[] = [];

/** Closes every fixture started since the last call (an afterEach). */
export async function closeKeyFixtures(): Promise<void> {
  for (const step of cleanup) await step();
  cleanup = [];
}

/** The broker's client with its signing key registered with `daysLeft` days left, and the self-service scopes. */
export async function startKeyFixture(daysLeft: number, extraKeys = 0): Promise<KeyFixture> {
  let nowMs = Date.UTC(2026, 10, 25, 12);
  const now = () => nowMs;
  const fixture = await startBrokerFixture({ now });
  const dir = await keyDirectory();
  cleanup.push(
    () => fixture.close(),
    () => dir.remove(),
  );
  const clientId = fixture.env.MASKINPORTEN_CLIENT_ID as string;
  const { jwk } = await fixture.signer.current();
  const extras = await Promise.all(
    Array.from({ length: extraKeys }, async (_, i) => {
      const signer = await FileSigner.load(await dir.write(`extra-${i}.pem`, keyFileText(newKey(), "pem")), {
        alg: "RS256",
        kid: `extra-${i}`,
      });
      return (await signer.current()).jwk;
    }),
  );
  fixture.emulator.registerClient({
    clientId,
    orgNumber: CLIENT_ORG,
    jwks: [{ ...jwk, exp: Math.floor((nowMs + daysLeft * DAY_MS) / 1000) }, ...extras],
    scopes: [...CLIENT_SCOPES, ADMIN_SCOPES.read, ADMIN_SCOPES.write],
  });
  const env = { ...fixture.env, MASKINPORTEN_ADMIN_URL: fixture.emulator.url };
  let fresh = 0;
  return {
    fixture,
    clientId,
    kid: jwk.kid,
    env,
    now,
    advanceDays(days) {
      nowMs += days * DAY_MS;
    },
    keys: (...argv) => runKeys(argv, env, now),
    async newKeyRef() {
      fresh++;
      return `file:${await dir.write(`new-${fresh}.pem`, keyFileText(newKey(), "pem"))}`;
    },
  };
}
