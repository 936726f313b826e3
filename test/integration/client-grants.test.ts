// The caller client and the broker together: one getToken against a Maskinporten that is down signs at most 3 grants.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenClient } from "../../lib/client/index.ts";
import { type StartedLocalBroker, startTestLocalBroker } from "../support/local-broker.ts";

let local: StartedLocalBroker;
beforeAll(async () => {
  local = await startTestLocalBroker();
}, 60_000);
afterAll(() => local?.stop());

describe("retries of the caller client and the broker together", () => {
  it("one getToken against a Maskinporten answering 503 signs the broker's 3 grants, not 3 per client try", async () => {
    const emulator = local.broker.emulator;
    if (emulator === undefined) throw new Error("the local broker runs without its emulator");
    emulator.injectFault(...Array.from({ length: 9 }, () => ({ type: "status", status: 503 }) as const));
    const before = emulator.grantsReceived;
    const client = createTokenClient({
      endpoint: local.broker.url,
      region: local.broker.region,
      credentials: local.credential,
      sleep: async () => undefined,
    });
    await expect(client.getToken({ scope: "skatteetaten:mva" })).rejects.toMatchObject({
      code: "upstream_unavailable",
      status: 503,
    });
    expect(emulator.grantsReceived - before).toBe(3);
    emulator.clearFaults();
  });
});
