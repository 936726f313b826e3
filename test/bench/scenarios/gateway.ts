// Throughput and latency of cache-hit POST /token through the local SigV4-verifying gateway (`npm start`), with
// autocannon on loopback. One request is signed once and replayed: SigV4 signatures stay valid for 5 minutes.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import autocannon from "autocannon";
import { startLocalBroker } from "../../../dev/start.ts";
import { type Figure, latencyFigures } from "../figures.ts";

const SCENARIO = "cache-hit /token via SigV4 gateway";
const DURATION_SECONDS = 10;
const CONNECTIONS = 10;

export default async function run(): Promise<Figure[]> {
  const dir = await mkdtemp(join(tmpdir(), "mp-broker-bench-gateway-"));
  const local = await startLocalBroker({ host: "127.0.0.1", port: 0, dir });
  try {
    const credential = local.credentials.credentials[0];
    if (credential === undefined) throw new Error("the local broker has no credentials");
    const url = new URL("/token", local.url);
    const body = JSON.stringify({ scope: "skatteetaten:mva" });
    const signed = await new SignatureV4({
      service: "execute-api",
      region: local.region,
      credentials: credential,
      sha256: Sha256,
    }).sign({
      method: "POST",
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      headers: { host: url.host, "content-type": "application/json" },
      body,
    });
    const first = await fetch(url, { method: "POST", headers: signed.headers, body });
    if (first.status !== 200)
      throw new Error(`the signed request answered ${first.status}: ${await first.text()}`);
    const result = await autocannon({
      url: url.href,
      method: "POST",
      headers: signed.headers,
      body,
      connections: CONNECTIONS,
      duration: DURATION_SECONDS,
      workers: 1,
    });
    const requests = result.requests.total;
    const failures = result.non2xx + result.errors + result.timeouts;
    const setup = `autocannon ${CONNECTIONS} connections for ${DURATION_SECONDS} s in a worker thread, ${requests} requests; one request signed once and replayed (a SigV4 signature is valid 5 minutes)`;
    return [
      ...latencyFigures(SCENARIO, {
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        perSecond: result.requests.average,
        note: setup,
      }),
      {
        scenario: SCENARIO,
        metric: "non-2xx, errors, timeouts",
        value: failures,
        unit: "responses",
        budget: { op: "=", limit: 0 },
      },
    ];
  } finally {
    await local.close();
    await rm(dir, { recursive: true, force: true });
  }
}
