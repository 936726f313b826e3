import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidRequest, PayloadTooLarge, Problem, UnsupportedMediaType } from "../../lib/problem/index.ts";
import {
  isOrgNumber,
  parseTokenRequest,
  repeatingParser,
  type TokenRequestOptions,
} from "../../lib/request/index.ts";
import { PID_A, SYNTHETIC_PID_40, SYNTHETIC_PID_80 } from "../support/pid.ts";

const JSON_TYPE = "application/json";
const TEST = { environment: "test" } as const;
const PROD = { environment: "prod" } as const;
const parse = (
  body: unknown,
  contentType: string | undefined,
  isBase64Encoded = false,
  options: TokenRequestOptions = TEST,
) =>
  parseTokenRequest(
    { body: typeof body === "string" ? body : JSON.stringify(body), isBase64Encoded, contentType },
    options,
  );
const detailOf = (body: unknown, contentType = JSON_TYPE, options: TokenRequestOptions = TEST): string => {
  try {
    parse(body, contentType, false, options);
  } catch (error) {
    if (error instanceof Problem) return `${error.code}: ${error.detail}`;
    throw error;
  }
  throw new Error("expected a problem");
};

describe("organisation numbers", () => {
  it("accepts numbers with a valid mod-11 check digit", () => {
    for (const n of ["991825827", "974760673", "310000000"]) expect(isOrgNumber(n), n).toBe(true);
  });
  it("rejects a wrong check digit, wrong length and non-digits", () => {
    for (const n of ["991825828", "99182582", "9918258270", "99182582a", " 91825827"])
      expect(isOrgNumber(n), n).toBe(false);
  });
  it("accepts exactly one check digit per 8-digit prefix, none when the remainder is 1", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{8}$/), (prefix) => {
        const valid = [..."0123456789"].filter((d) => isOrgNumber(prefix + d));
        const sum = [3, 2, 7, 6, 5, 4, 3, 2].reduce((acc, w, i) => acc + w * Number(prefix[i]), 0);
        expect(valid.length).toBe(sum % 11 === 1 ? 0 : 1);
      }),
    );
  });
});

/** The members of a parsed request that hold a value: an omitted field is an undefined member. */
const given = (request: object) =>
  Object.fromEntries(Object.entries(request).filter(([, value]) => value !== undefined));

describe("parseTokenRequest", () => {
  it("sorts and de-duplicates the scope set and defaults min_ttl to 30", () => {
    expect(parse({ scope: "b:x a:y b:x" }, JSON_TYPE)).toEqual({
      request: { scopes: ["a:y", "b:x"] },
      minTtl: 30,
    });
  });

  it("turns a single resource into an array and keeps orgs", () => {
    expect(
      parse(
        { scope: "a", resource: "https://api.example.no/x", consumer_org: "991825827", min_ttl: 300 },
        JSON_TYPE,
      ),
    ).toEqual({
      request: { scopes: ["a"], resource: ["https://api.example.no/x"], consumerOrg: "991825827" },
      minTtl: 300,
    });
    expect(parse({ scope: "a", systemuser_org: "974760673" }, JSON_TYPE).request.systemuserOrg).toBe(
      "974760673",
    );
  });

  it("names the field in every refusal", () => {
    expect(detailOf({ scope: "a  b" })).toMatch(/^invalid_request: scope:/);
    expect(detailOf({ scope: 'a"b' })).toMatch(/^invalid_request: scope:/);
    expect(detailOf({ scope: Array.from({ length: 21 }, (_, i) => `s${i}`).join(" ") })).toMatch(
      /scope: at most 20/,
    );
    expect(detailOf({})).toMatch(/^invalid_request: scope:/);
    expect(detailOf({ scope: "a", min_ttl: 301 })).toMatch(/^invalid_request: min_ttl:/);
    expect(detailOf({ scope: "a", min_ttl: 1.5 })).toMatch(/^invalid_request: min_ttl:/);
    expect(detailOf({ scope: "a", min_ttl: "30" })).toMatch(/^invalid_request: min_ttl:/);
    expect(detailOf({ scope: "a", consumer_org: "991825828" })).toMatch(/^invalid_request: consumer_org:/);
    expect(detailOf({ scope: "a", systemuser_org: 991825827 })).toMatch(/^invalid_request: systemuser_org:/);
    expect(detailOf({ scope: "a", consumer_org: "991825827", systemuser_org: "974760673" })).toMatch(
      /consumer_org, systemuser_org/,
    );
    expect(detailOf({ scope: "a", resource: "http://x.no" })).toMatch(/^invalid_request: resource:/);
    expect(detailOf({ scope: "a", resource: [] })).toMatch(/^invalid_request: resource:/);
    expect(detailOf({ scope: "a", resource: Array(6).fill("https://x.no") })).toMatch(
      /^invalid_request: resource:/,
    );
    expect(detailOf({ scope: "a", audience: "x" })).toBe('invalid_request: unknown field(s): "audience"');
    expect(detailOf({ scope: "a", audience: "x", iss: "y" })).toBe(
      'invalid_request: unknown field(s): "audience", "iss"',
    );
    expect(detailOf("{")).toMatch(/^invalid_request: body:/);
    expect(detailOf("[1]")).toMatch(/^invalid_request: body:/);
  });

  it('takes exchange "altinn" and a pid, and refuses any other exchange', () => {
    expect(parse({ scope: "a", exchange: "altinn", pid: PID_A }, JSON_TYPE).request).toEqual({
      scopes: ["a"],
      exchange: "altinn",
      pid: PID_A,
    });
    for (const exchange of ["Altinn", "idporten", "", 1, null]) {
      expect(detailOf({ scope: "a", exchange })).toBe('invalid_request: exchange: expected "altinn"');
    }
  });

  it("takes a system user's externalRef, a consent (id in lower case) and onbehalfof", () => {
    const id = "77ED8698-e619-4066-9eb4-5c1eb3f165a1";
    expect(
      parse({ scope: "a", systemuser_org: "974760673", systemuser_external_ref: "kunde/42:A" }, JSON_TYPE)
        .request,
    ).toEqual({ scopes: ["a"], systemuserOrg: "974760673", systemuserExternalRef: "kunde/42:A" });
    expect(parse({ scope: "a", consent: { id, from: PID_A } }, JSON_TYPE).request.consent).toEqual({
      id: id.toLowerCase(),
      from: PID_A,
    });
    expect(
      parse({ scope: "a", consent: { id, from: "991825827" }, consumer_org: "974760673" }, JSON_TYPE).request,
    ).toEqual({
      scopes: ["a"],
      consent: { id: id.toLowerCase(), from: "991825827" },
      consumerOrg: "974760673",
    });
    expect(parse({ scope: "a", onbehalfof: "kunde_1.test-2" }, JSON_TYPE).request.onbehalfof).toBe(
      "kunde_1.test-2",
    );
  });

  it.each([
    [
      "consumer_org with systemuser_org",
      { consumer_org: "991825827", systemuser_org: "974760673" },
      /consumer_org, systemuser_org: give at most one/,
    ],
    [
      "consumer_org with onbehalfof",
      { consumer_org: "991825827", onbehalfof: "kunde-1" },
      /consumer_org, onbehalfof: give at most one/,
    ],
    [
      "consent with systemuser_org",
      {
        consent: { id: "77ed8698-e619-4066-9eb4-5c1eb3f165a1", from: "991825827" },
        systemuser_org: "974760673",
      },
      /consent, systemuser_org: give at most one/,
    ],
    [
      "consent with pid",
      { consent: { id: "77ed8698-e619-4066-9eb4-5c1eb3f165a1", from: "991825827" }, pid: PID_A },
      /consent, pid: give at most one/,
    ],
    [
      "systemuser_external_ref without systemuser_org",
      { systemuser_external_ref: "r-1" },
      /systemuser_external_ref: only with systemuser_org/,
    ],
  ])("refuses %s with 400 naming the fields", (_name, fields, detail) => {
    expect(detailOf({ scope: "a", ...fields })).toMatch(new RegExp(`^invalid_request: ${detail.source}`));
  });

  it("refuses a bad externalRef, onbehalfof or consent, naming the field and never echoing a pid", () => {
    const su = { systemuser_org: "974760673" };
    for (const ref of ["", "a b", "x".repeat(256), "tab\there", "æøå", 42, `${PID_A} `]) {
      const detail = detailOf({ scope: "a", ...su, systemuser_external_ref: ref });
      expect(detail).toMatch(/^invalid_request: systemuser_external_ref: /);
      expect(detail).not.toContain(PID_A.slice(0, 6));
    }
    for (const value of ["", "a/b", "x".repeat(65), 7, `${PID_A}/`]) {
      const detail = detailOf({ scope: "a", onbehalfof: value });
      expect(detail).toMatch(/^invalid_request: onbehalfof: /);
      expect(detail).not.toContain(PID_A.slice(0, 6));
    }
    const wrong = `${PID_A.slice(0, 10)}${(Number(PID_A[10]) + 1) % 10}`;
    const id = "77ed8698-e619-4066-9eb4-5c1eb3f165a1";
    for (const consent of [
      { id, from: wrong },
      { id, from: "991825828" },
      { id, from: Number(PID_A) },
      { id: "77ed8698e6194066", from: PID_A },
      { id: PID_A, from: PID_A },
      { id },
      { from: PID_A },
      { id, from: PID_A, [PID_A]: 1 },
      PID_A,
      [id, PID_A],
    ]) {
      const detail = detailOf({ scope: "a", consent });
      expect(detail, JSON.stringify(consent)).toMatch(/^invalid_request: consent(\.id|\.from)?: expected/);
      expect(detail).not.toContain(PID_A.slice(0, 6));
    }
  });

  it("sends an externalRef, onbehalfof or consent id holding 11 digits as given (the audit masks them)", () => {
    const id = `77ed8698-e619-4066-9eb4-${PID_A}0`;
    const { request } = parse(
      { scope: "a", systemuser_org: "974760673", systemuser_external_ref: `ref-${PID_A}` },
      JSON_TYPE,
    );
    expect(request.systemuserExternalRef).toBe(`ref-${PID_A}`);
    expect(parse({ scope: "a", onbehalfof: PID_A }, JSON_TYPE).request.onbehalfof).toBe(PID_A);
    expect(parse({ scope: "a", consent: { id, from: "991825827" } }, JSON_TYPE).request.consent?.id).toBe(id);
  });

  it("never echoes a pid given as the name of an unknown field, nor a part of one", () => {
    for (const name of [PID_A, `pid_${PID_A}`, `${PID_A}9`, `${"x".repeat(45)}${PID_A}`]) {
      const detail = detailOf({ scope: "a", [name]: 1 });
      expect(detail).toMatch(/^invalid_request: unknown field\(s\): /);
      expect(detail).not.toMatch(/\d{5}/);
    }
    expect(detailOf({ scope: "a", audience2: 1 })).toBe('invalid_request: unknown field(s): "audience2"');
  });

  it("refuses a pid with a wrong control digit, or not a string of 11 digits, without echoing it", () => {
    const wrong = `${PID_A.slice(0, 10)}${(Number(PID_A[10]) + 1) % 10}`;
    for (const pid of [wrong, PID_A.slice(0, 10), Number(PID_A), `${PID_A} `, [PID_A], { pid: PID_A }]) {
      const detail = detailOf({ scope: "a", pid });
      expect(detail).toBe(
        "invalid_request: pid: expected an 11-digit national identity or D-number with valid control digits",
      );
      expect(detail).not.toContain(PID_A.slice(0, 6));
    }
  });

  it("accepts synthetic test identities (month + 40 or + 80) as pid in test only", () => {
    for (const pid of [SYNTHETIC_PID_40, SYNTHETIC_PID_80]) {
      expect(parse({ scope: "a", pid }, JSON_TYPE, false, TEST).request.pid).toBe(pid);
      expect(detailOf({ scope: "a", pid }, JSON_TYPE, PROD)).toMatch(/^invalid_request: pid: expected/);
    }
    expect(parse({ scope: "a", pid: PID_A }, JSON_TYPE, false, PROD).request.pid).toBe(PID_A);
  });

  it("refuses bodies over 8 KiB with 413 and non-JSON media types with 415", () => {
    expect(() => parse(JSON.stringify({ scope: "a".repeat(8200) }), JSON_TYPE)).toThrow(PayloadTooLarge);
    expect(() => parse({ scope: "a" }, "text/plain")).toThrow(UnsupportedMediaType);
    expect(() => parse({ scope: "a" }, undefined)).toThrow(UnsupportedMediaType);
    expect(() => parse({ scope: "a" }, "application/json; charset=iso-8859-1")).toThrow(UnsupportedMediaType);
    expect(parse({ scope: "a" }, "Application/JSON; charset=UTF-8").request.scopes).toEqual(["a"]);
  });

  it("says what is wrong with a scope string: empty, a double space, a bad token (quoted, cut at 100), too many", () => {
    expect(detailOf({ scope: "" })).toBe("invalid_request: scope: expected at least one scope");
    for (const scope of ["a  b", " a", "a "]) {
      expect(detailOf({ scope }), scope).toBe(
        "invalid_request: scope: scopes must be separated by single spaces",
      );
    }
    const long = `${"x".repeat(120)}"`;
    expect(detailOf({ scope: `a ${long}` })).toBe(
      `invalid_request: scope: invalid scope-token "${"x".repeat(100)}"`,
    );
    for (const bad of ['"a', 'a"', "a\\b", "æ"]) {
      expect(detailOf({ scope: bad }), bad).toMatch(/^invalid_request: scope: invalid scope-token /);
    }
    const scopes = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);
    expect(parse({ scope: scopes(20).join(" ") }, JSON_TYPE).request.scopes).toHaveLength(20);
    expect(detailOf({ scope: scopes(21).join(" ") })).toBe("invalid_request: scope: at most 20 scopes");
  });

  it("a body of exactly 8 KiB is parsed, one byte more is 413 saying both sizes", () => {
    const padded = (bytes: number) => {
      const body = JSON.stringify({ scope: "a", min_ttl: 30 });
      return `${body.slice(0, -1)}${" ".repeat(bytes - body.length)}}`;
    };
    expect(parse(padded(8192), JSON_TYPE).request.scopes).toEqual(["a"]);
    expect(detailOf(padded(8193))).toBe("payload_too_large: body: at most 8192 bytes, got 8193");
  });

  it("reads the media type and its parameters whatever the spaces around them, and only charset counts", () => {
    for (const type of [
      " application/json ",
      "application/json ; charset=utf-8",
      "application/json;charset = utf-8",
      'application/json; charset="utf-8"',
      "application/json; boundary=x",
      "application/json; version",
    ]) {
      expect(parse({ scope: "a" }, type).request.scopes, type).toEqual(["a"]);
    }
    for (const type of [
      "application/json; charset",
      'application/json; charset=utf-8""',
      'application/json; charset=""',
    ]) {
      expect(detailOf({ scope: "a" }, type), type).toBe(
        "unsupported_media_type: Content-Type: expected application/json",
      );
    }
  });

  it("says a body that is not JSON or not UTF-8 is malformed", () => {
    expect(detailOf("{")).toBe("invalid_request: body: expected a JSON object (malformed JSON or not UTF-8)");
  });

  it("refuses a byte that is not UTF-8 inside a JSON string, rather than reading it as U+FFFD", () => {
    const bytes = Buffer.concat([Buffer.from('{"scope":"a'), Buffer.from([0xff]), Buffer.from('"}')]);
    expect(() => parse(bytes.toString("base64"), JSON_TYPE, true)).toThrow(
      new InvalidRequest("body: expected a JSON object (malformed JSON or not UTF-8)"),
    );
  });

  it("a charset other than UTF-8 is 415 with spaces around its = too", () => {
    for (const type of ["application/json; charset = iso-8859-1", "application/json;charset =utf-16"]) {
      expect(detailOf({ scope: "a" }, type), type).toBe(
        "unsupported_media_type: Content-Type: expected application/json",
      );
    }
  });

  it("a scope-token that holds a pid is refused, in any position of the scope, without echoing it", () => {
    for (const scope of [`nav:${PID_A}`, `a:b nav:${PID_A}`, `nav:${PID_A} a:b`]) {
      const detail = detailOf({ scope });
      expect(detail, scope).toBe(
        "invalid_request: scope: a scope-token must not hold 11 or more digits in a row (a national identity number goes in pid)",
      );
    }
  });

  it("takes 1 to 5 resources, refuses 6, and refuses userinfo in any entry", () => {
    const uris = (n: number) => Array.from({ length: n }, (_, i) => `https://api.example.no/${i}`);
    expect(parse({ scope: "a", resource: uris(5) }, JSON_TYPE).request.resource).toEqual(uris(5));
    expect(detailOf({ scope: "a", resource: uris(6) })).toBe(
      "invalid_request: resource: expected 1 to 5 URIs",
    );
    expect(detailOf({ scope: "a", resource: 7 })).toBe(
      "invalid_request: resource: expected an https URI or an array of 1 to 5 of them",
    );
    const withUserinfo = ["https://a.example/", "https://u:p@b.example/"];
    expect(detailOf({ scope: "a", resource: withUserinfo })).toBe(
      "invalid_request: resource: a URI must not carry userinfo (user:password@ before the host)",
    );
  });

  it("takes a client name and refuses one of other characters, naming the field", () => {
    expect(given(parse({ scope: "a", client: "payroll_2-x" }, JSON_TYPE).request)).toStrictEqual({
      scopes: ["a"],
      client: "payroll_2-x",
    });
    for (const client of ["pay roll", "", 7]) {
      expect(detailOf({ scope: "a", client }), JSON.stringify(client)).toMatch(
        /^invalid_request: client: expected the name of a configured Maskinporten client/,
      );
    }
  });

  it("carries the fields the body had under their names, and no value for an omitted one", () => {
    expect(Object.keys(given(parse({ scope: "a" }, JSON_TYPE).request))).toEqual(["scopes"]);
    const full = parse(
      {
        scope: "a",
        resource: "https://a.example/",
        consumer_org: "991825827",
        client: "c",
        exchange: "altinn",
        pid: PID_A,
      },
      JSON_TYPE,
    );
    expect(Object.keys(given(full.request)).sort()).toEqual([
      "client",
      "consumerOrg",
      "exchange",
      "pid",
      "resource",
      "scopes",
    ]);
    expect(Object.keys(given(parse({ scope: "a", systemuser_org: "974760673" }, JSON_TYPE).request))).toEqual(
      ["scopes", "systemuserOrg"],
    );
  });

  it("decodes base64-encoded bodies and refuses bytes that are not UTF-8", () => {
    const body = Buffer.from(JSON.stringify({ scope: "a" })).toString("base64");
    expect(parse(body, JSON_TYPE, true).request.scopes).toEqual(["a"]);
    expect(() => parse(Buffer.from([0x7b, 0xff, 0x7d]).toString("base64"), JSON_TYPE, true)).toThrow(
      InvalidRequest,
    );
  });

  it("answers any body and content type with a parse or a 400/413/415 problem", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        fc.option(fc.constantFrom(JSON_TYPE, "text/plain", "application/json; charset=utf-8", ""), {
          nil: undefined,
        }),
        fc.boolean(),
        (body, contentType, isBase64Encoded) => {
          try {
            parseTokenRequest({ body, contentType, isBase64Encoded }, TEST);
          } catch (error) {
            expect(error).toBeInstanceOf(Problem);
            expect([400, 413, 415]).toContain((error as Problem).status);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("repeatingParser", () => {
  const raw = (body: string, contentType: string | undefined = JSON_TYPE, isBase64Encoded = false) => ({
    body,
    isBase64Encoded,
    contentType,
  });

  it("answers what parseTokenRequest answers, for any sequence of bodies", () => {
    const bodies = [
      JSON.stringify({ scope: "a:b c:d" }),
      JSON.stringify({ scope: "a:b", resource: ["https://x.example/", "https://a.example/"], min_ttl: 60 }),
      JSON.stringify({ scope: "a:b", consumer_org: "991825827" }),
      JSON.stringify({ scope: "a:b", extra: 1 }),
      "{",
    ];
    const outcome = (f: () => unknown) => {
      try {
        return { ok: f() };
      } catch (error) {
        return { error: error instanceof Problem ? `${error.code}: ${error.detail}` : String(error) };
      }
    };
    fc.assert(
      fc.property(
        fc.array(fc.record({ i: fc.nat(bodies.length - 1), type: fc.constantFrom(JSON_TYPE, "text/plain") })),
        fc.integer({ min: 1, max: 4 }),
        (calls, capacity) => {
          const parseRepeating = repeatingParser(TEST, capacity);
          for (const { i, type } of calls) {
            const r = raw(bodies[i] ?? "", type);
            expect(outcome(() => parseRepeating(r))).toEqual(outcome(() => parseTokenRequest(r, TEST)));
          }
        },
      ),
    );
  });

  it("gives the same frozen result for the same body and parses again when any part differs", () => {
    const parseRepeating = repeatingParser(TEST);
    const body = JSON.stringify({ scope: "a:b", resource: "https://x.example/" });
    const first = parseRepeating(raw(body));
    expect(parseRepeating(raw(body))).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.request)).toBe(true);
    expect(Object.isFrozen(first.request.scopes) && Object.isFrozen(first.request.resource)).toBe(true);
    expect(parseRepeating(raw(body, `${JSON_TYPE}; charset=utf-8`))).not.toBe(first);
    expect(() => parseRepeating(raw(body, "text/plain"))).toThrow(UnsupportedMediaType);
    const base64 = raw(Buffer.from(body).toString("base64"), JSON_TYPE, true);
    expect(parseRepeating(base64)).toEqual(first);
  });

  it("remembers several bodies at once, and at most `capacity` of them, forgetting the oldest first", () => {
    const parseRepeating = repeatingParser(TEST, 2);
    const [a, b, c] = ["a:a", "b:b", "c:c"].map((scope) => raw(JSON.stringify({ scope })));
    if (a === undefined || b === undefined || c === undefined) throw new Error("three bodies");
    const first = { a: parseRepeating(a), b: parseRepeating(b) };
    expect(parseRepeating(a)).toBe(first.a);
    expect(parseRepeating(b)).toBe(first.b);
    const third = parseRepeating(c); // forgets a
    expect(parseRepeating(b)).toBe(first.b);
    expect(parseRepeating(c)).toBe(third);
    const again = parseRepeating(a); // parsed afresh, forgets b
    expect(again).not.toBe(first.a);
    expect(again).toEqual(first.a);
    expect(parseRepeating(c)).toBe(third);
    expect(parseRepeating(b)).not.toBe(first.b);
  });

  it("answers a request without Content-Type or without body as a fresh parse does: 415, 400", () => {
    const parseRepeating = repeatingParser(TEST);
    const body = JSON.stringify({ scope: "a:b" });
    expect(() => parseRepeating({ body, isBase64Encoded: false, contentType: undefined })).toThrow(
      UnsupportedMediaType,
    );
    expect(() => parseRepeating({ body: null, isBase64Encoded: false, contentType: JSON_TYPE })).toThrow(
      new InvalidRequest("body: expected a JSON object (malformed JSON or not UTF-8)"),
    );
  });

  it("keeps no failure: a bad body fails every time, and the last good one is parsed afresh after it", () => {
    const parseRepeating = repeatingParser(TEST);
    const good = JSON.stringify({ scope: "a:b" });
    const first = parseRepeating(raw(good));
    expect(() => parseRepeating(raw("{"))).toThrow(InvalidRequest);
    expect(() => parseRepeating(raw("{"))).toThrow(InvalidRequest);
    const again = parseRepeating(raw(good));
    expect(again).toEqual(first);
  });
});
