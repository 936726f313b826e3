import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decide,
  loadPolicy,
  normalisePrincipal,
  PolicyError,
  validatePolicy,
} from "../../lib/policy/index.ts";
import { RESOURCE_RULE } from "../../lib/request/index.ts";
import { PID_A, PID_B } from "../support/pid.ts";
import { asParsed, type PlainRequest } from "../support/request.ts";

const ROLE = "arn:aws:iam::111122223333:role";
const ORG_A = "991825827";
const ORG_B = "974760673";
const API = "https://api.example.no/a";
const who = (name: string) => normalisePrincipal(`arn:aws:sts::111122223333:assumed-role/${name}/sess`);
const rules = (...list: Record<string, unknown>[]) => validatePolicy({ rules: list }, "test");
const ask = (policy: ReturnType<typeof rules>, request: PlainRequest, name = "svc") =>
  decide(policy, who(name), asParsed(request));
const S = ["skatteetaten:mva"];
const base = { principal: `${ROLE}/svc`, scopes: S };

describe("a rule's lists are requirements", () => {
  it("a consumer_orgs rule refuses a request without consumer_org", () => {
    expect(ask(rules({ ...base, consumer_orgs: [ORG_A] }), { scopes: S })).toEqual({
      allowed: false,
      reason: `${ROLE}/svc may not request these scopes without consumer_org (the rule requires consumer_org)`,
    });
    expect(ask(rules({ ...base, consumer_orgs: ["*"] }), { scopes: S })).toMatchObject({
      reason: expect.stringContaining("rule requires consumer_org"),
    });
  });

  it("a rule without consumer_orgs refuses a request with consumer_org", () => {
    for (const policy of [rules(base), rules({ ...base, consumer_orgs: [] })]) {
      expect(ask(policy, { scopes: S, consumerOrg: ORG_A })).toEqual({
        allowed: false,
        reason: `${ROLE}/svc may not act for consumer_org ${ORG_A}`,
      });
    }
  });

  it("a consumer_orgs rule allows the listed organisations only, and * any", () => {
    const listed = rules({ ...base, consumer_orgs: [ORG_A] });
    expect(ask(listed, { scopes: S, consumerOrg: ORG_A })).toEqual({ allowed: true, rule: 0 });
    expect(ask(listed, { scopes: S, consumerOrg: ORG_B })).toMatchObject({ allowed: false });
    expect(ask(rules({ ...base, consumer_orgs: ["*"] }), { scopes: S, consumerOrg: ORG_B })).toEqual({
      allowed: true,
      rule: 0,
    });
  });

  it("a systemuser_orgs rule refuses a request without systemuser_org", () => {
    expect(ask(rules({ ...base, systemuser_orgs: ["*"] }), { scopes: S })).toMatchObject({
      allowed: false,
      reason: expect.stringContaining("rule requires systemuser_org"),
    });
  });

  it("a rule without systemuser_orgs refuses a request with systemuser_org", () => {
    expect(ask(rules(base), { scopes: S, systemuserOrg: ORG_B })).toEqual({
      allowed: false,
      reason: `${ROLE}/svc may not request a system user token for systemuser_org ${ORG_B}`,
    });
    const listed = rules({ ...base, systemuser_orgs: [ORG_A] });
    expect(ask(listed, { scopes: S, systemuserOrg: ORG_A })).toEqual({ allowed: true, rule: 0 });
    expect(ask(listed, { scopes: S, systemuserOrg: ORG_B })).toMatchObject({ allowed: false });
  });

  it("a resources rule refuses a request without resource (no unrestricted-audience token)", () => {
    expect(ask(rules({ ...base, resources: [API] }), { scopes: S })).toMatchObject({
      allowed: false,
      reason: expect.stringContaining("rule requires resource"),
    });
    expect(ask(rules({ ...base, resources: ["*"] }), { scopes: S })).toMatchObject({ allowed: false });
  });

  it("a rule without resources refuses a request with resource", () => {
    expect(ask(rules(base), { scopes: S, resource: [API] })).toEqual({
      allowed: false,
      reason: `${ROLE}/svc may not request resource ${API}`,
    });
  });

  it("a resources rule allows a request only when every resource is listed", () => {
    const policy = rules({ ...base, resources: [API] });
    expect(ask(policy, { scopes: S, resource: [API] })).toEqual({ allowed: true, rule: 0 });
    expect(ask(policy, { scopes: S, resource: [API, "https://evil.example/"] })).toMatchObject({
      reason: expect.stringContaining("resource https://evil.example/"),
    });
  });

  it("a rule without exchanges refuses an exchange, and an exchanges rule refuses a request without one", () => {
    for (const policy of [rules(base), rules({ ...base, exchanges: [] })]) {
      expect(ask(policy, { scopes: S, exchange: "altinn" })).toEqual({
        allowed: false,
        reason: `${ROLE}/svc may not exchange the token for an altinn token (the rule has no exchanges)`,
      });
    }
    const exchanging = rules({ ...base, exchanges: ["altinn"] });
    expect(ask(exchanging, { scopes: S, exchange: "altinn" })).toEqual({ allowed: true, rule: 0 });
    expect(ask(exchanging, { scopes: S })).toMatchObject({
      allowed: false,
      reason: expect.stringContaining("rule requires exchange"),
    });
  });

  it("only a pid: true rule allows a pid, and it requires one; no reason names the pid", () => {
    for (const policy of [rules(base), rules({ ...base, pid: false })]) {
      const decision = ask(policy, { scopes: S, pid: PID_A });
      expect(decision).toEqual({
        allowed: false,
        reason: `${ROLE}/svc may not request a pid-restricted token (the rule has no "pid": true)`,
        personalOnly: true,
      });
    }
    const personal = rules({ ...base, pid: true });
    expect(ask(personal, { scopes: S, pid: PID_A })).toEqual({ allowed: true, rule: 0 });
    expect(ask(personal, { scopes: S })).toMatchObject({
      allowed: false,
      reason: expect.stringContaining("rule requires pid"),
    });
    const other = ask(rules({ ...base, scopes: ["other:x"], pid: true }), { scopes: S, pid: PID_A });
    expect(JSON.stringify(other)).not.toContain(PID_A);
    // Denied before the pid was looked at: the broker computes no pseudonym for it.
    expect(other).toEqual({ allowed: false, reason: `${ROLE}/svc may not request scope ${S[0]}` });
  });

  it.each([
    [
      "systemuser_external_refs",
      "systemuser_external_ref",
      { systemuserOrg: ORG_A, systemuserExternalRef: "ref-1" },
      { systemuserOrg: ORG_A, systemuserExternalRef: "ref-2" },
    ],
    ["onbehalfofs", "onbehalfof", { onbehalfof: "kunde-1" }, { onbehalfof: "kunde-2" }],
  ] as const)(
    "a %s rule requires %s, allows only listed values, and no reason echoes the value",
    (list, field, listed, other) => {
      const su = "systemuserOrg" in listed ? { systemuser_orgs: ["*"] } : {};
      const policy = rules({ ...base, ...su, [list]: ["ref-1", "kunde-1"] });
      const without = { scopes: S, ...("systemuserOrg" in listed ? { systemuserOrg: ORG_A } : {}) };
      expect(ask(policy, without)).toMatchObject({
        allowed: false,
        reason: expect.stringContaining(`rule requires ${field}`),
      });
      expect(ask(policy, { scopes: S, ...listed })).toEqual({ allowed: true, rule: 0 });
      const outside = ask(policy, { scopes: S, ...other });
      expect(outside).toMatchObject({ allowed: false, reason: expect.stringContaining(list) });
      expect(JSON.stringify(outside)).not.toMatch(/ref-2|kunde-2/);
      expect(ask(rules({ ...base, ...su, [list]: ["*"] }), { scopes: S, ...other })).toEqual({
        allowed: true,
        rule: 0,
      });
      // A rule without the list refuses a request that carries the field.
      expect(ask(rules({ ...base, ...su }), { scopes: S, ...listed })).toMatchObject({ allowed: false });
    },
  );

  it("only a consent: true rule allows a consent, and it requires one; no reason names who gave it", () => {
    const consent = { id: "77ed8698-e619-4066-9eb4-5c1eb3f165a1", from: PID_A };
    for (const policy of [rules(base), rules({ ...base, consent: false })]) {
      const decision = ask(policy, { scopes: S, consent });
      expect(decision).toMatchObject({
        allowed: false,
        reason: expect.stringContaining('no "consent": true'),
      });
      expect(JSON.stringify(decision)).not.toContain(PID_A);
    }
    const consenting = rules({ ...base, consent: true });
    expect(ask(consenting, { scopes: S, consent })).toEqual({ allowed: true, rule: 0 });
    expect(ask(consenting, { scopes: S })).toMatchObject({
      allowed: false,
      reason: expect.stringContaining("rule requires consent"),
    });
    expect(ask(consenting, { scopes: S, pid: PID_A })).toMatchObject({ allowed: false });
  });

  it("a principal that asks both for itself and on behalf of customers needs two rules", () => {
    const one = rules({ ...base, consumer_orgs: ["*"] });
    const two = rules(base, { ...base, consumer_orgs: ["*"] });
    expect(ask(one, { scopes: S })).toMatchObject({ allowed: false });
    expect(ask(two, { scopes: S })).toEqual({ allowed: true, rule: 0 });
    expect(ask(two, { scopes: S, consumerOrg: ORG_A })).toEqual({ allowed: true, rule: 1 });
  });

  it("an allowed request carries exactly the fields its rule requires, each listed (an omitted field never widens)", () => {
    const org = fc.constantFrom(ORG_A, ORG_B);
    const list = (values: fc.Arbitrary<string>) =>
      fc.array(fc.oneof(values, fc.constant("*")), { maxLength: 2 });
    const resource = fc.constantFrom(API, "https://b.example/");
    fc.assert(
      fc.property(
        fc.record({
          consumer_orgs: list(org),
          systemuser_orgs: list(org),
          resources: list(resource),
          systemuser_external_refs: list(fc.constantFrom("ref-1", "ref-2")),
          onbehalfofs: list(fc.constantFrom("kunde-1", "kunde-2")),
          exchanges: fc.constantFrom([], ["altinn"]),
          pid: fc.boolean(),
          consent: fc.boolean(),
        }),
        fc.record(
          {
            consumerOrg: org,
            systemuserOrg: org,
            resource: fc.uniqueArray(resource, { minLength: 1, maxLength: 2 }),
            exchange: fc.constant("altinn" as const),
            systemuserExternalRef: fc.constantFrom("ref-1", "ref-2"),
            onbehalfof: fc.constantFrom("kunde-1", "kunde-2"),
            pid: fc.constantFrom(PID_A, PID_B),
            consent: fc.constantFrom(
              { id: "77ed8698-e619-4066-9eb4-5c1eb3f165a1", from: PID_B },
              { id: "b55b0a8c-46db-4239-a417-a89daabfabba", from: ORG_A },
            ),
          },
          { requiredKeys: [] },
        ),
        (lists, fields) => {
          const request: PlainRequest = { scopes: S, ...fields };
          const decision = ask(rules({ ...base, ...lists }), request);
          const fits = (rule: readonly string[], values: readonly string[] | undefined) =>
            values === undefined
              ? rule.length === 0
              : rule.length > 0 && values.every((v) => rule.includes("*") || rule.includes(v));
          const one = (value: string | undefined) => (value === undefined ? undefined : [value]);
          const expected =
            fits(lists.systemuser_external_refs, one(request.systemuserExternalRef)) &&
            fits(lists.onbehalfofs, one(request.onbehalfof)) &&
            lists.consent === (request.consent !== undefined) &&
            fits(
              lists.consumer_orgs,
              request.consumerOrg === undefined ? undefined : [request.consumerOrg],
            ) &&
            fits(
              lists.systemuser_orgs,
              request.systemuserOrg === undefined ? undefined : [request.systemuserOrg],
            ) &&
            fits(lists.resources, request.resource) &&
            fits(lists.exchanges, request.exchange === undefined ? undefined : [request.exchange]) &&
            lists.pid === (request.pid !== undefined);
          expect(decision.allowed).toBe(expected);
        },
      ),
    );
  });
});

describe("policy decisions", () => {
  const policy = rules(
    {
      principal: `${ROLE}/payroll-*`,
      scopes: ["skatteetaten:inntektsmottak", "skatteetaten:a-meldinger/*"],
    },
    {
      principal: `${ROLE}/payroll-*`,
      scopes: ["skatteetaten:inntektsmottak"],
      consumer_orgs: ["*"],
    },
    {
      principal: `${ROLE}/altinn-svc`,
      scopes: ["altinn:*"],
      systemuser_orgs: [ORG_B],
      resources: [API],
    },
  );

  it("allows when one rule permits everything, matching an assumed role by its role", () => {
    expect(
      ask(policy, { scopes: ["skatteetaten:a-meldinger/les", "skatteetaten:inntektsmottak"] }, "payroll-svc"),
    ).toEqual({ allowed: true, rule: 0 });
    expect(
      ask(policy, { scopes: ["skatteetaten:inntektsmottak"], consumerOrg: ORG_A }, "payroll-svc"),
    ).toEqual({ allowed: true, rule: 1 });
    expect(
      ask(policy, { scopes: ["altinn:x"], systemuserOrg: ORG_B, resource: [API] }, "altinn-svc"),
    ).toEqual({ allowed: true, rule: 2 });
  });

  it("denies by default, naming what did not match in the rule that got furthest", () => {
    expect(ask(policy, { scopes: ["altinn:x"] }, "hr-svc")).toEqual({
      allowed: false,
      reason: `no policy rule matches principal ${ROLE}/hr-svc`,
    });
    expect(
      ask(policy, { scopes: ["skatteetaten:inntektsmottak", "skatteetaten:mva"] }, "payroll-svc"),
    ).toEqual({ allowed: false, reason: `${ROLE}/payroll-svc may not request scope skatteetaten:mva` });
    // Rule 1 allows the scope but not consumer_org for a-meldinger: rule 0 got as far, and it names consumer_org.
    expect(
      ask(policy, { scopes: ["skatteetaten:a-meldinger/les"], consumerOrg: ORG_A }, "payroll-svc"),
    ).toMatchObject({ reason: expect.stringContaining(`consumer_org ${ORG_A}`) });
    expect(ask(policy, { scopes: ["altinn:x"], resource: [API] }, "altinn-svc")).toMatchObject({
      reason: expect.stringContaining("rule requires systemuser_org"),
    });
    expect(ask(policy, { scopes: ["altinn:x"], systemuserOrg: ORG_B }, "altinn-svc")).toMatchObject({
      reason: expect.stringContaining("rule requires resource"),
    });
  });

  it("with no rule at all, denies naming the principal", () => {
    expect(ask(rules(), { scopes: S }, "payroll-svc")).toEqual({
      allowed: false,
      reason: `no policy rule matches principal ${ROLE}/payroll-svc`,
    });
  });

  it("of two rules that got equally far, the first gives the reason", () => {
    const two = rules({ ...base, scopes: ["b:y"] }, { ...base, scopes: ["a:x"] });
    expect(ask(two, { scopes: ["a:x", "b:y"] })).toEqual({
      allowed: false,
      reason: `${ROLE}/svc may not request scope a:x`,
    });
  });

  it("an empty resource list is no resource: it never satisfies a resources rule", () => {
    expect(ask(rules({ ...base, resources: ["*"] }), { scopes: S, resource: [] })).toEqual({
      allowed: false,
      reason: `${ROLE}/svc may not request these scopes without resource (the rule requires resource)`,
    });
  });

  it("a rule that lists clients, even *, refuses a request whose client is not settled", () => {
    const anyClient = rules({ ...base, clients: ["*"] });
    expect(ask(anyClient, { scopes: S })).toEqual({
      allowed: false,
      reason: `${ROLE}/svc may use only the clients its rules name: the request must name its client`,
    });
    expect(ask(anyClient, { scopes: S, client: "default" })).toEqual({ allowed: true, rule: 0 });
  });

  it("does not combine two rules to permit one request", () => {
    const split = rules({ principal: `${ROLE}/x`, scopes: ["a"] }, { principal: `${ROLE}/x`, scopes: ["b"] });
    expect(ask(split, { scopes: ["a", "b"] }, "x")).toMatchObject({ allowed: false });
    expect(ask(split, { scopes: ["b"] }, "x")).toEqual({ allowed: true, rule: 1 });
  });
});

describe("principal patterns glob within one ARN field", () => {
  const anyAccount = rules({ principal: "arn:aws:iam::*:role/payroll-svc", scopes: S });
  const caller = (arn: string) => decide(anyAccount, normalisePrincipal(arn), asParsed({ scopes: S }));

  it("a * never matches across ':' (an IAM user named like a role is not that role)", () => {
    expect(caller("arn:aws:iam::111122223333:user/x:role/payroll-svc")).toMatchObject({ allowed: false });
    expect(caller("arn:aws:sts::111122223333:assumed-role/payroll-svc/s")).toEqual({
      allowed: true,
      rule: 0,
    });
  });

  it("the resource type is literal: a role pattern never admits a user of the same name", () => {
    expect(caller("arn:aws:iam::111122223333:user/payroll-svc")).toMatchObject({ allowed: false });
    const users = rules({ principal: "arn:aws:iam::111122223333:user/*", scopes: S });
    expect(decide(users, who("payroll-svc"), asParsed({ scopes: S }))).toMatchObject({ allowed: false });
    expect(
      decide(users, normalisePrincipal("arn:aws:iam::111122223333:user/ops/alice"), asParsed({ scopes: S })),
    ).toEqual({ allowed: true, rule: 0 });
  });

  it("the account is the same 12 digits or *", () => {
    const fixed = rules({ ...base, principal: `${ROLE}/*` });
    expect(
      decide(fixed, normalisePrincipal("arn:aws:iam::444455556666:role/svc"), asParsed({ scopes: S })),
    ).toMatchObject({ allowed: false });
    expect(caller("arn:aws:iam::444455556666:role/payroll-svc")).toEqual({ allowed: true, rule: 0 });
  });

  it("a name pattern matches exactly the names of the same partition, service, account and type", () => {
    const field = fc.stringMatching(/^[a-z0-9-]{1,8}$/);
    const name = fc.stringMatching(/^[\w+=,.@-]{1,16}$/);
    const account = fc.stringMatching(/^\d{12}$/);
    fc.assert(
      fc.property(
        fc.record({ partition: field, account, name }),
        fc.record({ partition: field, account, name }),
        fc.nat(4),
        (p, v, cut) => {
          const pattern = rules({
            principal: `arn:${p.partition}:iam::${p.account}:role/${p.name.slice(0, cut)}*`,
            scopes: S,
          });
          const value = normalisePrincipal(`arn:${v.partition}:iam::${v.account}:role/${v.name}`);
          const expected =
            p.partition === v.partition && p.account === v.account && v.name.startsWith(p.name.slice(0, cut));
          expect(decide(pattern, value, asParsed({ scopes: S })).allowed).toBe(expected);
        },
      ),
    );
  });
});

describe("policy validation", () => {
  const refused = (document: unknown) => {
    try {
      validatePolicy(document, "POLICY");
    } catch (error) {
      expect(error).toBeInstanceOf(PolicyError);
      expect((error as Error).name).toBe("PolicyError");
      return (error as Error).message;
    }
    throw new Error("expected a PolicyError");
  };
  const ok = { principal: `${ROLE}/a`, scopes: ["a"] };

  it("names the rule index and the field", () => {
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
    expect(refused({ rules: [{ ...ok, exchanges: ["idporten"] }] })).toMatch(
      /rules\[0\].*\.exchanges\[0\]: expected "altinn"/,
    );
    expect(refused({ rules: [{ ...ok, exchanges: "altinn" }] })).toMatch(/\.exchanges: expected an array/);
    expect(refused({ rules: [{ ...ok, pid: "yes" }] })).toMatch(/rules\[0\].*\.pid: expected true or false/);
  });

  it("says what each field must be when it has the wrong type or shape", () => {
    expect(refused("rules")).toBe('POLICY: expected {"rules": [...]} (expected an object)');
    expect(refused({ rules: "all" })).toBe('POLICY: expected {"rules": [...]} (expected an array of rules)');
    expect(refused({ rules: [null] })).toBe("POLICY: rules[0]: expected a rule object");
    expect(refused({ rules: [{ ...ok, principal: 7 }] })).toBe(
      "POLICY: rules[0].principal: expected an IAM ARN pattern",
    );
    const field = (fields: Record<string, unknown>) => refused({ rules: [{ ...ok, ...fields }] });
    const label = `POLICY: rules[0] (principal ${ROLE}/a)`;
    expect(field({ scopes: [7] })).toBe(`${label}.scopes[0]: expected a scope pattern`);
    expect(field({ scopes: "a" })).toBe(`${label}.scopes: expected an array of scope patterns`);
    for (const name of [
      "consumer_orgs",
      "systemuser_orgs",
      "systemuser_external_refs",
      "onbehalfofs",
      "resources",
    ]) {
      expect(field({ [name]: "*" })).toBe(`${label}.${name}: expected an array`);
    }
    expect(field({ systemuser_external_refs: ["a b"] })).toBe(
      `${label}.systemuser_external_refs[0]: expected 1 to 255 printable ASCII characters, no spaces or control characters, or "*"`,
    );
    expect(field({ onbehalfofs: ["a/b"] })).toBe(
      `${label}.onbehalfofs[0]: expected 1 to 64 characters of letters, digits, '.', '_' or '-', or "*"`,
    );
    expect(field({ consent: "yes" })).toBe(`${label}.consent: expected true or false`);
    expect(field({ clients: "*" })).toBe(`${label}.clients: expected an array of client names`);
    expect(field({ consumer_orgs: ["123"] })).toBe(
      `${label}.consumer_orgs[0]: expected a 9-digit organisation number or "*"`,
    );
    expect(field({ resources: ["x"] })).toBe(`${label}.resources[0]: expected ${RESOURCE_RULE} or "*"`);
    expect(field({ principal: "*" })).toBe(
      "POLICY: rules[0] (principal *).principal: expected an IAM ARN such as " +
        "arn:aws:iam::111122223333:role/payroll-* (* globs within one field)",
    );
  });

  it("a principal pattern's partition, service and region are lower case, digits, - and *", () => {
    for (const principal of [
      "arn:Aws:iam::*:role/a",
      "arn:awS:iam::*:role/a",
      "arn:aws:Iam::*:role/a",
      "arn:aws:iaM::*:role/a",
      "arn:aws:iam:EU-north-1:*:role/a",
      "arn:aws:iam:eu-north-1X:*:role/a",
    ]) {
      expect(refused({ rules: [{ ...ok, principal }] }), principal).toMatch(
        /\.principal: expected an IAM ARN/,
      );
    }
    for (const principal of ["arn:aws-*:iam:eu-north-1:*:role/a", "arn:aws:iam:*:*:role/a"]) {
      expect(validatePolicy({ rules: [{ ...ok, principal }] }, "POLICY").rules[0]?.principal).toBe(principal);
    }
  });

  it("a role pattern with an empty path is refused as a path too", () => {
    expect(refused({ rules: [{ ...ok, principal: `${ROLE}//a` }] })).toMatch(/without its path/);
  });

  it("a principal pattern's account is 12 digits or *", () => {
    for (const account of ["1111*", "*1", "11112222333", "1111222233334", "", "a11122223333"]) {
      expect(refused({ rules: [{ ...ok, principal: `arn:aws:iam::${account}:role/a` }] }), account).toMatch(
        /\.principal: the account is 12 digits or \*/,
      );
    }
  });

  it("a principal pattern's resource type is literal", () => {
    for (const type of ["*", "ro*", "Role"]) {
      expect(refused({ rules: [{ ...ok, principal: `arn:aws:iam::*:${type}/a` }] }), type).toMatch(
        /\.principal: the resource type \(role\/, user\/\) is literal/,
      );
    }
    expect(refused({ rules: [{ ...ok, principal: "arn:aws:iam::*:role/a:b" }] })).toMatch(
      /expected an IAM ARN/,
    );
  });

  it("a policy resource is a resource URI or *", () => {
    for (const resource of [
      "https://a.example/ x",
      "https://a.example/\u202e",
      "https://a.example/#f",
      "x",
    ]) {
      expect(refused({ rules: [{ ...ok, resources: [resource] }] }), resource).toMatch(/\.resources\[0\]/);
    }
  });

  it("loads from a file or inline JSON and refuses unreadable or malformed ones", async () => {
    const dir = await mkdtemp(join(tmpdir(), "policy-"));
    try {
      const path = join(dir, "policy.json");
      await writeFile(path, JSON.stringify({ rules: [ok] }));
      expect((await loadPolicy({ kind: "file", path })).rules).toHaveLength(1);
      await expect(loadPolicy({ kind: "file", path: join(dir, "none.json") })).rejects.toThrow(/ENOENT/);
      await expect(loadPolicy({ kind: "inline", json: "{" })).rejects.toThrow(/^POLICY: not valid JSON/);
      await writeFile(path, "{");
      await expect(loadPolicy({ kind: "file", path })).rejects.toThrow(`POLICY_FILE ${path}: not valid JSON`);
      expect((await loadPolicy({ kind: "inline", json: '{"rules":[]}' })).rules).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
