import { afterEach, describe, expect, it } from "vitest";
import type { DiagnosticLogger } from "../../lib/audit/diagnostics.ts";
import { AuditTrail } from "../../lib/audit/index.ts";
import {
  ACCOUNT,
  type BrokerFixture,
  fixtureHandler,
  invoke,
  registerBrokerClient,
  startBrokerFixture,
} from "../support/broker-fixture.ts";
import { keyDirectory } from "../support/signer.ts";

const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:role/payroll-*`;
const ADMIN_SCOPES = ["idporten:dcr.read", "idporten:dcr.write", "idporten:scopes.write"];
/** Each glob, and an ordinary scope it still grants (every scope idporten:dcr* matches is an administration one). */
const GLOBS: [string, string | undefined][] = [
  ["*", "skatteetaten:mva"],
  ["idporten:*", "idporten:example.read"],
  ["idporten:dcr*", undefined],
];
const policy = (scopes: string[]) => JSON.stringify({ rules: [{ principal: PRINCIPAL, scopes }] });

/** A logger that keeps every line it is given. */
function keptLogger(): DiagnosticLogger & { lines: { message: string; fields: Record<string, unknown> }[] } {
  const lines: { message: string; fields: Record<string, unknown> }[] = [];
  const keep = (message: string, fields: Readonly<Record<string, unknown>>) => {
    lines.push({ message, fields: { ...fields } });
  };
  return { lines, warn: keep, error: keep };
}

let fixture: BrokerFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

/** The fixture with its client registered for the administration scopes too, as a real admin client would be. */
async function adminRegistered(): Promise<BrokerFixture> {
  const started = await startBrokerFixture();
  await registerBrokerClient(started.emulator, started.signer, [...ADMIN_SCOPES, "idporten:example.read"]);
  return started;
}

describe("POST /token for administration scopes", () => {
  for (const [glob, ordinary] of GLOBS) {
    it(`a rule with scopes ["${glob}"] answers 403 for idporten:dcr.write and signs nothing`, async () => {
      fixture = await adminRegistered();
      const handler = fixtureHandler(fixture, { POLICY: policy([glob]) });
      const denied = await invoke(handler, { scope: "idporten:dcr.write" });
      expect(denied.status).toBe(403);
      expect(denied.body).toMatchObject({
        code: "access_denied",
        detail: expect.stringContaining(
          "administration scopes (idporten:dcr*, idporten:scopes*) need a rule that lists them literally",
        ),
      });
      expect(fixture.emulator.grantsReceived).toBe(0);
      if (ordinary !== undefined) expect((await invoke(handler, { scope: ordinary })).status).toBe(200);
    });
  }

  it("a rule listing idporten:dcr.read literally grants exactly that scope", async () => {
    fixture = await adminRegistered();
    const handler = fixtureHandler(fixture, { POLICY: policy(["idporten:dcr.read"]) });
    const granted = await invoke(handler, { scope: "idporten:dcr.read" });
    expect(granted.status).toBe(200);
    expect(granted.body.scope).toBe("idporten:dcr.read");
    expect(fixture.emulator.acceptedGrants.map((claims) => claims.scope)).toEqual(["idporten:dcr.read"]);
    for (const scope of [
      "idporten:dcr.write",
      "idporten:dcr.read idporten:dcr.write",
      "idporten:scopes.write",
    ]) {
      expect((await invoke(handler, { scope })).status).toBe(403);
    }
    expect(fixture.emulator.grantsReceived).toBe(1);
  });

  it("a policy file that grants one literally loads and says so once in the cold-start log", async () => {
    fixture = await adminRegistered();
    const dir = await keyDirectory();
    try {
      const path = await dir.write("policy.json", policy(["skatteetaten:*", "idporten:dcr.read"]));
      const logger = keptLogger();
      const handler = fixtureHandler(
        fixture,
        { POLICY_FILE: path, POLICY: "" },
        { audit: new AuditTrail({ logger, write: () => undefined }) },
      );
      expect((await invoke(handler, { scope: "idporten:dcr.read" })).status).toBe(200);
      expect((await invoke(handler, { scope: "skatteetaten:mva" })).status).toBe(200);
      expect(logger.lines).toEqual([
        {
          message: "policy_grants_administration_scopes",
          fields: { rules: [{ rule: 0, scopes: ["idporten:dcr.read"] }] },
        },
      ]);
    } finally {
      await dir.remove();
    }
  });

  it("a policy that only globs logs nothing about administration scopes", async () => {
    fixture = await adminRegistered();
    const logger = keptLogger();
    const handler = fixtureHandler(
      fixture,
      { POLICY: policy(["*"]) },
      { audit: new AuditTrail({ logger, write: () => undefined }) },
    );
    expect((await invoke(handler, { scope: "skatteetaten:mva" })).status).toBe(200);
    expect(logger.lines).toEqual([]);
  });
});
