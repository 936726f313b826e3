// Cache-hit POST /token through the token handler in-process, next to a naive caller that signs a grant and
// calls Maskinporten (the emulator) for every request. Sequential requests, one at a time, on one thread.
import { lambdaContext } from "../../../dev/api-gateway-event.ts";
import { MaskinportenClient } from "../../../lib/maskinporten/client.ts";
import { fixtureHandler, startBrokerFixture, tokenEvent } from "../../support/broker-fixture.ts";
import { type Figure, latencyFigures, percentile } from "../figures.ts";
import { timedLoop } from "../loop.ts";

const SCOPE = "skatteetaten:mva";
const HANDLER = "cache-hit /token, handler in-process";
const NAIVE = "naive: sign + Maskinporten per request";

export default async function run(): Promise<Figure[]> {
  const fixture = await startBrokerFixture();
  try {
    const handler = fixtureHandler(fixture);
    const event = tokenEvent({ scope: SCOPE });
    const context = lambdaContext("bench-token");
    const first = await handler(event, context);
    if (first.statusCode !== 200) throw new Error(`first /token answered ${first.statusCode}: ${first.body}`);
    const hit = async () => {
      const response = await handler(event, context);
      if (response.statusCode !== 200 || response.headers?.["X-Token-Cache"] !== "hit") {
        throw new Error(
          `a cache-hit request answered ${response.statusCode} ${response.headers?.["X-Token-Cache"]}`,
        );
      }
    };
    await timedLoop(hit, { count: 2_000, maxMs: 5_000 });
    const hits = await timedLoop(hit, { count: 50_000, maxMs: 10_000 });

    const client = new MaskinportenClient(
      {
        issuer: fixture.emulator.issuer,
        tokenUrl: fixture.emulator.tokenUrl,
        clientId: fixture.env.MASKINPORTEN_CLIENT_ID ?? "",
        timeoutMs: 3_000,
        maxRetries: 0,
      },
      fixture.signer,
    );
    const naive = async () => {
      await client.requestToken({ scopes: [SCOPE] });
    };
    await timedLoop(naive, { count: 20, maxMs: 5_000 });
    const naives = await timedLoop(naive, { count: 500, maxMs: 15_000 });

    const ratio = hits.perSecond / naives.perSecond;
    return [
      ...latencyFigures(HANDLER, {
        p50Ms: percentile(hits.samples, 50),
        p99Ms: percentile(hits.samples, 99),
        perSecond: hits.perSecond,
        note: `${hits.samples.length} sequential requests`,
        p99Budget: { op: "<", limit: 1 },
      }),
      ...latencyFigures(NAIVE, {
        p50Ms: percentile(naives.samples, 50),
        p99Ms: percentile(naives.samples, 99),
        perSecond: naives.perSecond,
        note: `${naives.samples.length} sequential requests; RS256 FileSigner, emulator on loopback`,
      }),
      {
        scenario: "headline",
        metric: "broker cache hit vs naive, throughput",
        value: ratio,
        unit: "x",
        budget: { op: ">=", limit: 50 },
      },
    ];
  } finally {
    await fixture.close();
  }
}
