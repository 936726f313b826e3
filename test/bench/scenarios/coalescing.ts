// Burst coalescing: 1,000 and 10,000 concurrent misses on one key through the token handler must make exactly
// one signature (counted by wrapping the signer) and one Maskinporten call (counted by the emulator).
import { lambdaContext } from "../../../dev/api-gateway-event.ts";
import {
  countingSigner,
  fixtureHandler,
  startBrokerFixture,
  tokenEvent,
} from "../../support/broker-fixture.ts";
import type { Figure } from "../figures.ts";

const BURSTS = [
  { size: 1_000, scope: "skatteetaten:mva" },
  { size: 10_000, scope: "skatteetaten:inntektsmottak" },
];

export default async function run(): Promise<Figure[]> {
  const fixture = await startBrokerFixture();
  try {
    const signer = countingSigner(fixture.signer);
    const handler = fixtureHandler(fixture, {}, {}, { signer });
    const context = lambdaContext("bench-token");
    const figures: Figure[] = [];
    for (const { size, scope } of BURSTS) {
      const event = tokenEvent({ scope });
      const signsBefore = signer.signs;
      const upstreamBefore = fixture.emulator.grantsReceived;
      const started = performance.now();
      const responses = await Promise.all(Array.from({ length: size }, () => handler(event, context)));
      const ms = performance.now() - started;
      const outcomes = new Map<string, number>();
      for (const r of responses) {
        const label = r.statusCode === 200 ? String(r.headers?.["X-Token-Cache"]) : `HTTP ${r.statusCode}`;
        outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
      }
      const tokens = new Set(
        responses.map((r) => (JSON.parse(r.body) as { access_token?: string }).access_token),
      );
      const scenario = `burst of ${size.toLocaleString("en")} concurrent misses, one key`;
      figures.push(
        {
          scenario,
          metric: "signs",
          value: signer.signs - signsBefore,
          unit: "",
          budget: { op: "=", limit: 1 },
        },
        {
          scenario,
          metric: "Maskinporten calls",
          value: fixture.emulator.grantsReceived - upstreamBefore,
          unit: "",
          budget: { op: "=", limit: 1 },
        },
        {
          scenario,
          metric: "distinct tokens returned",
          value: tokens.size,
          unit: "",
          budget: { op: "=", limit: 1 },
          note: `X-Token-Cache: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(", ")}`,
        },
        { scenario, metric: "time to answer all", value: ms, unit: "ms" },
      );
    }
    return figures;
  } finally {
    await fixture.close();
  }
}
