// Heap per cached token at 10,000 distinct cached scope sets, through the broker (its cache, its entries), with
// tokens of a real emulator token's size; each token a distinct string so none is shared. Needs --expose-gc.
import { randomUUID } from "node:crypto";
import { createBroker } from "../../../lib/broker/index.ts";
import { loadConfig } from "../../../lib/config/index.ts";
import { MaskinportenClient } from "../../../lib/maskinporten/client.ts";
import type { TokenSource } from "../../../lib/maskinporten/types.ts";
import { ACCOUNT, roleCaller, startBrokerFixture } from "../../support/broker-fixture.ts";
import { asParsed } from "../../support/request.ts";
import type { Figure } from "../figures.ts";

const ENTRIES = 10_000;
const WARM_UP = 500;
const SCENARIO = `memory, ${ENTRIES.toLocaleString("en")} distinct cached scope sets`;

function collect(): number {
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error("run with node --expose-gc");
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

export default async function run(): Promise<Figure[]> {
  const fixture = await startBrokerFixture();
  try {
    const signer = fixture.signer;
    const keyRef = (await signer.current()).keyRef;
    // No grant budget: the 10,000 distinct scope sets are one principal signing far more than 600 grants a minute.
    const config = loadConfig({
      ...fixture.env,
      TOKEN_CACHE_MAX_ENTRIES: String(2 * ENTRIES),
      GRANTS_PER_PRINCIPAL_PER_MINUTE: "0",
    });
    const real = await new MaskinportenClient(
      {
        ...config.maskinporten,
        clientId: config.clients[0]?.clientId ?? "",
        timeoutMs: config.upstreamTimeoutMs,
      },
      signer,
    ).requestToken(asParsed({ scopes: ["skatteetaten:mva"] }));
    const template = Buffer.from(real.token.access_token);
    let minted = 0;
    // Maskinporten's answer for any scope set, without the emulator: 10,000 grants would measure RSA, not memory.
    const source: TokenSource = {
      async requestToken(request, trace) {
        const bytes = Buffer.from(template);
        bytes.write(String(minted++).padStart(12, "0"), bytes.length - 12, "latin1");
        trace?.attempts.push({
          attempt: 1,
          grantJti: randomUUID(),
          keyRef,
          signMs: 1,
          upstreamStatus: 200,
          upstreamMs: 5,
          outcome: "ok",
        });
        return {
          token: { ...real.token, access_token: bytes.toString("latin1"), scope: request.scopes.join(" ") },
          receivedAt: performance.now(),
        };
      },
    };
    const broker = await createBroker(config, {}, { signer, tokenSource: source });
    const ask = async (scope: string): Promise<string> => {
      const answer = await broker.token({
        caller: { userArn: roleCaller("payroll-svc").userArn, accountId: ACCOUNT },
        body: { body: JSON.stringify({ scope }), isBase64Encoded: false, contentType: "application/json" },
        requestId: randomUUID(),
        remainingMs: 28_000,
      });
      return answer.cache;
    };
    for (let i = 0; i < WARM_UP; i++) await ask(`bench:warm-up-${i}`);
    const before = collect();
    for (let i = 0; i < ENTRIES; i++) await ask(`bench:scope-${i} skatteetaten:mva`);
    const after = collect();
    let hits = 0;
    for (let i = 0; i < ENTRIES; i++) if ((await ask(`skatteetaten:mva bench:scope-${i}`)) === "hit") hits++;
    if (hits !== ENTRIES) throw new Error(`only ${hits} of ${ENTRIES} scope sets were still cached`);
    const perEntry = (after - before) / ENTRIES;
    return [
      {
        scenario: SCENARIO,
        metric: "heap per cached token",
        value: perEntry / 1024,
        unit: "KiB",
        budget: { op: "<", limit: 8 },
        note: `access token ${template.length} bytes (a real emulator token); all ${ENTRIES} re-requested afterwards as cache hits`,
      },
      {
        scenario: SCENARIO,
        metric: "heap for all entries",
        value: (after - before) / 1024 / 1024,
        unit: "MiB",
      },
    ];
  } finally {
    await fixture.close();
  }
}
