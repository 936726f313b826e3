// Test support: `npm start`'s broker (dev/start.ts) in this process, on a free port, with its files in a temp dir.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LocalCredential } from "../../dev/credentials.ts";
import { type LocalBroker, startLocalBroker } from "../../dev/start.ts";

/** Variables that would point the local broker away from its defaults (the emulator, a generated key and policy). */
const BROKER_VARIABLES = /^(MASKINPORTEN_|SIGNING_|POLICY|TOKEN_|UPSTREAM_)/;

export interface StartedLocalBroker {
  broker: LocalBroker;
  credential: LocalCredential;
  stop(): Promise<void>;
}

/**
 * One per test file: the handlers read this process's environment once, at their cold start. `credentials`, when
 * given, is written as the credentials file before the start, as a user would edit it.
 */
export async function startTestLocalBroker(
  credentials?: readonly LocalCredential[],
): Promise<StartedLocalBroker> {
  for (const name of Object.keys(process.env)) if (BROKER_VARIABLES.test(name)) delete process.env[name];
  const dir = await mkdtemp(join(tmpdir(), "local-broker-"));
  if (credentials !== undefined) {
    await writeFile(join(dir, "credentials.json"), JSON.stringify({ credentials }), { mode: 0o600 });
  }
  const broker = await startLocalBroker({ host: "127.0.0.1", port: 0, dir });
  const credential = broker.credentials.credentials[0];
  if (credential === undefined) throw new Error("the local broker created no credentials");
  return {
    broker,
    credential,
    stop: async () => {
      await broker.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
