// Test support: `npm start`'s broker (dev/start.ts) in this process, on a free port, with its files in a temp dir.
import { mkdtemp, rm } from "node:fs/promises";
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

/** One per test file: the handlers read this process's environment once, at their cold start. */
export async function startTestLocalBroker(): Promise<StartedLocalBroker> {
  for (const name of Object.keys(process.env)) if (BROKER_VARIABLES.test(name)) delete process.env[name];
  const dir = await mkdtemp(join(tmpdir(), "local-broker-"));
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
