// Maskinporten's refusals remembered per request through the token handler: repeats sign no grant for a while.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditTrail } from "../../lib/audit/index.ts";
import { auditLines } from "../support/audit-lines.ts";
import {
  type BrokerFixture,
  countingSigner,
  fixtureHandler,
  invoke,
  startBrokerFixture,
} from "../support/broker-fixture.ts";

/** The policy gives payroll-* bench:*, the emulator's client has no such scope: Maskinporten says invalid_scope. */
const REFUSED = { scope: "bench:not-on-the-client" };

let fixture: BrokerFixture;
beforeAll(async () => {
  fixture = await startBrokerFixture();
});
afterAll(() => fixture.close());

function refusing(env: Record<string, string> = {}) {
  let clock = 1_000_000;
  const audit = auditLines();
  const signer = countingSigner(fixture.signer);
  const handler = fixtureHandler(
    fixture,
    env,
    { monotonic: () => clock, audit: new AuditTrail({ write: audit.write }) },
    { signer },
  );
  return {
    handler,
    audit,
    signer,
    advance(seconds: number) {
      clock += seconds * 1000;
    },
  };
}

describe("Maskinporten's refusals are remembered briefly", () => {
  it("30 identical requests that Maskinporten refuses sign at most 1 grant, each answered the same 502", async () => {
    const { handler, audit, signer } = refusing();
    const before = fixture.emulator.grantsReceived;
    const answers = [];
    for (let i = 0; i < 30; i++) answers.push(await invoke(handler, REFUSED));

    expect(signer.signs).toBeLessThanOrEqual(1);
    expect(fixture.emulator.grantsReceived - before).toBe(1);
    for (const answer of answers) {
      expect(answer.status).toBe(502);
      expect(answer.body).toMatchObject({
        code: "upstream_rejected",
        upstream_error: "invalid_scope",
        upstream_error_description: answers[0]?.body.upstream_error_description,
        detail: answers[0]?.body.detail,
      });
    }
    const failed = audit.records.filter((r) => r.event === "token_failed");
    expect(failed.map((r) => r.cache ?? null)).toEqual([null, ...Array(29).fill("refused")]);
    expect(failed.slice(1).every((r) => r.code === "upstream_rejected" && r.grant_jti === undefined)).toBe(
      true,
    );
  });

  it("30 concurrent identical refused requests share one grant", async () => {
    const { handler, signer } = refusing();
    const answers = await Promise.all(Array.from({ length: 30 }, () => invoke(handler, REFUSED)));
    expect(answers.every((a) => a.status === 502 && a.body.code === "upstream_rejected")).toBe(true);
    expect(signer.signs).toBe(1);
  });

  it("a remembered refusal is forgotten after REFUSAL_CACHE_SECONDS, and belongs to its own request only", async () => {
    const { handler, signer, advance } = refusing({ REFUSAL_CACHE_SECONDS: "10" });
    await invoke(handler, REFUSED);
    expect((await invoke(handler, { scope: "skatteetaten:mva" })).status).toBe(200);
    expect(signer.signs).toBe(2);
    advance(9);
    expect((await invoke(handler, REFUSED)).status).toBe(502);
    expect(signer.signs).toBe(2);
    advance(1);
    expect((await invoke(handler, REFUSED)).status).toBe(502);
    expect(signer.signs).toBe(3);
  });

  it("REFUSAL_CACHE_SECONDS=0 remembers nothing: every repeat asks Maskinporten", async () => {
    const { handler, signer } = refusing({ REFUSAL_CACHE_SECONDS: "0" });
    for (let i = 0; i < 3; i++) expect((await invoke(handler, REFUSED)).status).toBe(502);
    expect(signer.signs).toBe(3);
  });

  it("only refusals are remembered: a 503 is tried again on the next request", async () => {
    const { handler, signer } = refusing({ UPSTREAM_TIMEOUT_MS: "2000" });
    const down = { type: "status", status: 503 } as const;
    fixture.emulator.injectFault(down, down, down);
    expect((await invoke(handler, { scope: "skatteetaten:mva" })).status).toBe(503);
    expect((await invoke(handler, { scope: "skatteetaten:mva" })).status).toBe(200);
    expect(signer.signs).toBe(4);
  });
});
