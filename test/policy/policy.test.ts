import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { TokenRequest } from "../../lib/grant/index.ts";
import {
  decide,
  loadPolicy,
  normalisePrincipal,
  PolicyError,
  validatePolicy,
} from "../../lib/policy/index.ts";

const ROLE = "arn:aws:iam::111122223333:role";
const policy = validatePolicy(
  {
    rules: [
      {
        principal: `${ROLE}/payroll-*`,
        scopes: ["skatteetaten:inntektsmottak", "skatteetaten:a-meldinger/*"],
        consumer_orgs: ["*"],
      },
      {
        principal: `${ROLE}/altinn-svc`,
        scopes: ["altinn:*"],
        systemuser_orgs: ["974760673"],
        resources: ["https://api.example.no/a"],
      },
    ],
  },
  "test",
);
const who = (name: string) => normalisePrincipal(`arn:aws:sts::111122223333:assumed-role/${name}/sess`);
const ask = (name: string, request: TokenRequest) => decide(policy, who(name), request);

describe("policy decisions", () => {
  it("allows when one rule permits everything, matching an assumed role by its role", () => {
    expect(
      ask("payroll-svc", { scopes: ["skatteetaten:a-meldinger/les", "skatteetaten:inntektsmottak"] }),
    ).toEqual({
      allowed: true,
      rule: 0,
    });
    expect(ask("payroll-svc", { scopes: ["skatteetaten:inntektsmottak"], consumerOrg: "991825827" })).toEqual(
      {
        allowed: true,
        rule: 0,
      },
    );
    expect(
      ask("altinn-svc", {
        scopes: ["altinn:x"],
        systemuserOrg: "974760673",
        resource: ["https://api.example.no/a"],
      }),
    ).toEqual({ allowed: true, rule: 1 });
  });

  it("denies by default, naming the first thing that did not match", () => {
    expect(ask("hr-svc", { scopes: ["altinn:x"] })).toEqual({
      allowed: false,
      reason: `no policy rule matches principal ${ROLE}/hr-svc`,
    });
    expect(ask("payroll-svc", { scopes: ["skatteetaten:inntektsmottak", "skatteetaten:mva"] })).toEqual({
      allowed: false,
      reason: `${ROLE}/payroll-svc may not request scope skatteetaten:mva`,
    });
    expect(
      ask("payroll-svc", { scopes: ["skatteetaten:inntektsmottak"], systemuserOrg: "974760673" }),
    ).toMatchObject({
      reason: expect.stringContaining("systemuser_org 974760673"),
    });
    expect(ask("altinn-svc", { scopes: ["altinn:x"], consumerOrg: "991825827" })).toMatchObject({
      reason: expect.stringContaining("consumer_org 991825827"),
    });
    expect(ask("altinn-svc", { scopes: ["altinn:x"], resource: ["https://evil.example/"] })).toMatchObject({
      reason: expect.stringContaining("resource https://evil.example/"),
    });
    expect(
      ask("payroll-svc", { scopes: ["skatteetaten:inntektsmottak"], resource: ["https://api.example.no/a"] }),
    ).toMatchObject({ allowed: false });
  });

  it("does not combine two rules to permit one request", () => {
    const split = validatePolicy(
      {
        rules: [
          { principal: `${ROLE}/x`, scopes: ["a"] },
          { principal: `${ROLE}/x`, scopes: ["b"] },
        ],
      },
      "test",
    );
    expect(decide(split, who("x"), { scopes: ["a", "b"] })).toMatchObject({ allowed: false });
    expect(decide(split, who("x"), { scopes: ["b"] })).toEqual({ allowed: true, rule: 1 });
  });
});

describe("policy validation", () => {
  const refused = (document: unknown) => {
    try {
      validatePolicy(document, "POLICY");
    } catch (error) {
      expect(error).toBeInstanceOf(PolicyError);
      return (error as Error).message;
    }
    throw new Error("expected a PolicyError");
  };

  it("names the rule index and the field", () => {
    const ok = { principal: `${ROLE}/a`, scopes: ["a"] };
    expect(refused({ rules: [ok, { principal: `${ROLE}/b`, scopes: ["a b"] }] })).toMatch(
      /^POLICY: rules\[1\] \(principal arn:aws:iam::111122223333:role\/b\)\.scopes\[0\]: expected a scope-token/,
    );
    expect(refused({ rules: [ok, ok, { ...ok, consumer_orgs: ["123"] }] })).toMatch(
      /rules\[2\].*\.consumer_orgs\[0\]/,
    );
    expect(refused({ rules: [{ ...ok, scope: ["a"] }] })).toMatch(/rules\[0\].*unknown field\(s\) scope/);
    expect(refused({ rules: [{ principal: "*", scopes: ["a"] }] })).toMatch(
      /rules\[0\].*\.principal: expected an IAM ARN/,
    );
    expect(refused({ rules: [{ ...ok, principal: "arn:aws:sts::111122223333:assumed-role/a/s" }] })).toMatch(
      /role ARN/,
    );
    expect(refused({ rules: [{ ...ok, principal: `${ROLE}/service/a` }] })).toMatch(/without its path/);
    expect(refused({ rules: [{ ...ok, scopes: [] }] })).toMatch(
      /rules\[0\].*\.scopes: expected at least one scope/,
    );
    expect(refused({ rules: [{ ...ok, resources: ["http://x"] }] })).toMatch(/\.resources\[0\]/);
    expect(refused({ rule: [] })).toMatch(/^POLICY: expected \{"rules"/);
  });

  it("loads from a file or inline JSON and refuses unreadable or malformed ones", async () => {
    const dir = await mkdtemp(join(tmpdir(), "policy-"));
    try {
      const path = join(dir, "policy.json");
      await writeFile(path, JSON.stringify({ rules: [{ principal: `${ROLE}/a`, scopes: ["a"] }] }));
      expect((await loadPolicy({ kind: "file", path })).rules).toHaveLength(1);
      await expect(loadPolicy({ kind: "file", path: join(dir, "none.json") })).rejects.toThrow(/ENOENT/);
      await expect(loadPolicy({ kind: "inline", json: "{" })).rejects.toThrow(/^POLICY: not valid JSON/);
      expect((await loadPolicy({ kind: "inline", json: '{"rules":[]}' })).rules).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
