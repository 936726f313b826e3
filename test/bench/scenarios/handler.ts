// Cache-hit POST /token through the token handler in-process, next to a naive caller that signs a grant and
// calls Maskinporten for every request. Sequential requests, one at a time. The naive caller's "Maskinporten" is
// a canned answer from another process (probes/canned-upstream.mjs): no grant check, no token signing, so the
// naive side is charged its own work only (signing, HTTP, parsing), not an emulator's.
import { fork } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { lambdaContext } from "../../../dev/api-gateway-event.ts";
import { MaskinportenClient } from "../../../lib/maskinporten/client.ts";
import { fixtureHandler, startBrokerFixture, tokenEvent } from "../../support/broker-fixture.ts";
import { asParsed } from "../../support/request.ts";
import { type Figure, latencyFigures, percentile } from "../figures.ts";
import { timedLoop } from "../loop.ts";

const SCOPE = "skatteetaten:mva";
const HANDLER = "cache-hit /token, handler in-process";
const NAIVE = "naive: sign + Maskinporten per request";

/** Starts the canned upstream with `body` as its answer; resolves its token URL and a stop function. */
async function cannedUpstream(body: string): Promise<{ tokenUrl: string; stop: () => Promise<void> }> {
  const child = fork(join(import.meta.dirname, "../probes/canned-upstream.mjs"), [], {
    execArgv: [],
    env: { PATH: process.env.PATH ?? "", BENCH_TOKEN_BODY: body },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const [{ port }] = (await once(child, "message")) as [{ port: number }];
  return {
    tokenUrl: `http://127.0.0.1:${port}/token`,
    stop: async () => {
      const exited = once(child, "exit");
      child.disconnect();
      await exited;
    },
  };
}

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

    const upstream = await cannedUpstream(
      JSON.stringify({ ...(JSON.parse(first.body) as object), expires_in: 120, token_type: "Bearer" }),
    );
    const client = new MaskinportenClient(
      {
        issuer: fixture.emulator.issuer,
        tokenUrl: upstream.tokenUrl,
        clientId: fixture.env.MASKINPORTEN_CLIENT_ID ?? "",
        timeoutMs: 3_000,
        maxRetries: 0,
      },
      fixture.signer,
    );
    const naive = async () => {
      await client.requestToken(asParsed({ scopes: [SCOPE] }));
    };
    await timedLoop(naive, { count: 20, maxMs: 5_000 });
    const naives = await timedLoop(naive, { count: 500, maxMs: 15_000 });
    await upstream.stop();

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
        note: `${naives.samples.length} sequential requests; RS256 FileSigner, fetch to a canned answer in another process on loopback`,
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
