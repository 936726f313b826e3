import { describe, expect, it } from "vitest";
import {
  decide,
  loadPolicy,
  normalisePrincipal,
  PolicyError,
  validatePolicy,
} from "../../lib/policy/index.ts";
import { asParsed, type PlainRequest } from "../support/request.ts";

const ROLE = "arn:aws:iam::111122223333:role";
const CLIENTS = ["payroll", "vat"];
const who = (name: string) => normalisePrincipal(`arn:aws:sts::111122223333:assumed-role/${name}/sess`);
const refusal = (document: unknown, clients?: readonly string[]): string => {
  try {
    validatePolicy(document, "POLICY", clients);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as Error).message;
  }
  return expect.unreachable("expected a PolicyError");
};

const policy = validatePolicy(
  {
    rules: [
      { principal: `${ROLE}/payroll-svc`, scopes: ["skatteetaten:*"], clients: ["payroll"] },
      { principal: `${ROLE}/ops`, scopes: ["skatteetaten:*"], clients: ["*"] },
    ],
  },
  "POLICY",
  CLIENTS,
);
const ask = (name: string, request: PlainRequest) => decide(policy, who(name), asParsed(request));
const MVA = ["skatteetaten:mva"];

describe("policy clients", () => {
  it("a rule covering one client allows that client and denies the other, naming it", () => {
    expect(ask("payroll-svc", { scopes: MVA, client: "payroll" })).toEqual({ allowed: true, rule: 0 });
    expect(ask("payroll-svc", { scopes: MVA, client: "vat" })).toEqual({
      allowed: false,
      reason: `${ROLE}/payroll-svc may not use client vat`,
    });
  });

  it('"*" covers every configured client', () => {
    for (const client of CLIENTS)
      expect(ask("ops", { scopes: MVA, client })).toEqual({ allowed: true, rule: 1 });
  });

  it("a request that names no client is not allowed by a rule that lists clients", () => {
    expect(ask("payroll-svc", { scopes: MVA })).toMatchObject({
      allowed: false,
      reason: expect.stringContaining("the request must name its client"),
    });
  });

  it("a client mismatch is reported before the scopes: the first thing that did not match", () => {
    expect(ask("payroll-svc", { scopes: ["altinn:x"], client: "vat" })).toMatchObject({
      reason: `${ROLE}/payroll-svc may not use client vat`,
    });
  });

  it("refuses a rule without clients when several clients are configured, naming the rule", () => {
    const message = refusal(
      {
        rules: [
          { principal: `${ROLE}/a`, scopes: ["x:y"], clients: ["vat"] },
          { principal: `${ROLE}/payroll-svc`, scopes: ["x:y"] },
        ],
      },
      CLIENTS,
    );
    expect(message).toContain(`POLICY: rules[1] (principal ${ROLE}/payroll-svc).clients: required`);
    expect(message).toContain("several Maskinporten clients (payroll, vat)");
  });

  it("refuses a rule naming a client that is not configured", () => {
    expect(
      refusal({ rules: [{ principal: `${ROLE}/a`, scopes: ["x:y"], clients: ["payrol"] }] }, CLIENTS),
    ).toContain(
      `rules[0] (principal ${ROLE}/a).clients: no client named "payrol" is configured (configured: payroll, vat)`,
    );
    expect(
      refusal({ rules: [{ principal: `${ROLE}/a`, scopes: ["x:y"], clients: ["a b"] }] }, CLIENTS),
    ).toContain(`rules[0] (principal ${ROLE}/a).clients[0]: expected a configured client name or "*"`);
  });

  it("with one client configured the field is optional: a rule without it covers that client", () => {
    const single = validatePolicy({ rules: [{ principal: `${ROLE}/a`, scopes: ["x:y"] }] }, "POLICY", [
      "default",
    ]);
    expect(decide(single, who("a"), asParsed({ scopes: ["x:y"], client: "default" }))).toEqual({
      allowed: true,
      rule: 0,
    });
    const named = validatePolicy(
      { rules: [{ principal: `${ROLE}/a`, scopes: ["x:y"], clients: ["default"] }] },
      "POLICY",
    );
    expect(decide(named, who("a"), asParsed({ scopes: ["x:y"], client: "default" }))).toEqual({
      allowed: true,
      rule: 0,
    });
  });

  it("loadPolicy checks the rules against the configured client names", async () => {
    const json = JSON.stringify({ rules: [{ principal: `${ROLE}/a`, scopes: ["x:y"] }] });
    await expect(loadPolicy({ kind: "inline", json }, CLIENTS)).rejects.toThrow(
      /rules\[0\].*\.clients: required/,
    );
    await expect(loadPolicy({ kind: "inline", json }, ["payroll"])).resolves.toMatchObject({
      rules: [{ clients: [] }],
    });
  });
});
