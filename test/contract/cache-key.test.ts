import { describe, expect, it } from "vitest";
import { cacheKey } from "../../lib/contract/index.ts";
import { parseTokenRequest } from "../../lib/request/index.ts";
import { PID_A, PID_B } from "../support/pid.ts";
import { asParsed, type PlainRequest } from "../support/request.ts";

/** The key of a request as the parser would hand it over. */
const keyOf = (fields: PlainRequest) => cacheKey(asParsed(fields));

/** The key of a request body, parsed as the broker parses it. */
const bodyKey = (body: Record<string, unknown>) =>
  cacheKey(
    parseTokenRequest(
      { body: JSON.stringify(body), isBase64Encoded: false, contentType: "application/json" },
      { environment: "test" },
    ).request,
  );

const FULL: Required<PlainRequest> = {
  scopes: ["a:x", "b:y"],
  resource: ["https://a.example/", "https://b.example/"],
  consumerOrg: "991825827",
  systemuserOrg: "974760673",
  systemuserExternalRef: "ref-1",
  client: "payroll",
  pid: PID_A,
  consent: { id: "77ed8698-e619-4066-9eb4-5c1eb3f165a1", from: PID_B },
  onbehalfof: "kunde-1",
  exchange: "altinn",
};

/** One changed value per request field: the type makes a new TokenRequest field fail to compile here until added. */
const CHANGED: { readonly [K in keyof PlainRequest]-?: Required<PlainRequest>[K] } = {
  scopes: ["a:x", "b:z"],
  resource: ["https://a.example/", "https://c.example/"],
  consumerOrg: "310000000",
  systemuserOrg: "310000000",
  systemuserExternalRef: "ref-2",
  client: "vat",
  pid: PID_B,
  consent: { id: "77ed8698-e619-4066-9eb4-5c1eb3f165a1", from: PID_A },
  onbehalfof: "kunde-2",
  /** The only exchange there is: its presence is what changes. */
  exchange: "altinn",
};

describe("cacheKey", () => {
  it("an empty resource list is the same key as no resource, as it is the same grant", () => {
    const { resource: _resource, ...without } = FULL;
    expect(keyOf({ ...without, resource: [] })).toBe(keyOf(without));
  });

  it("each request field changes the key: its value, and whether it is present at all", () => {
    const key = keyOf(FULL);
    for (const field of Object.keys(CHANGED) as (keyof PlainRequest)[]) {
      if (field !== "exchange") {
        expect(keyOf({ ...FULL, [field]: CHANGED[field] }), `${field} changed`).not.toBe(key);
      }
      if (field === "scopes") continue;
      const { [field]: _omitted, ...without } = FULL;
      expect(keyOf(without), `${field} omitted`).not.toBe(key);
    }
  });

  it("the order and repeats of scopes and resources do not change the key (the parse canonicalises them)", () => {
    const body = { consumer_org: FULL.consumerOrg, client: FULL.client, pid: FULL.pid };
    expect(
      bodyKey({
        ...body,
        scope: "b:y a:x b:y",
        resource: ["https://b.example/", "https://a.example/", "https://b.example/"],
      }),
    ).toBe(bodyKey({ ...body, scope: "a:x b:y", resource: ["https://a.example/", "https://b.example/"] }));
    expect(bodyKey({ scope: "b:y a:x b:y" })).toBe(keyOf({ scopes: ["a:x", "b:y"] }));
  });

  it("the same request for two clients is two keys", () => {
    expect(keyOf({ scopes: ["a:x"], client: "payroll" })).not.toBe(keyOf({ scopes: ["a:x"], client: "vat" }));
  });

  it("an empty resource list is no resource, as in the grant", () => {
    expect(keyOf({ scopes: ["a:x"], resource: [] })).toBe(keyOf({ scopes: ["a:x"] }));
  });

  it("a value moved from one field to another is a different key", () => {
    const org = "991825827";
    expect(keyOf({ scopes: ["a:x"], consumerOrg: org })).not.toBe(
      keyOf({ scopes: ["a:x"], systemuserOrg: org }),
    );
    expect(keyOf({ scopes: ["a:x", "b:y"] })).not.toBe(keyOf({ scopes: ["a:x b:y"] }));
  });

  it("a consent's id and who gave it each change the key, and a person's consent is not their pid token", () => {
    const id = "77ed8698-e619-4066-9eb4-5c1eb3f165a1";
    const keys = new Set([
      keyOf({ scopes: ["a:x"], consent: { id, from: PID_A } }),
      keyOf({ scopes: ["a:x"], consent: { id: "b55b0a8c-46db-4239-a417-a89daabfabba", from: PID_A } }),
      keyOf({ scopes: ["a:x"], consent: { id, from: "991825827" } }),
      keyOf({ scopes: ["a:x"], pid: PID_A }),
      keyOf({ scopes: ["a:x"], systemuserOrg: "991825827", systemuserExternalRef: "991825827" }),
      keyOf({ scopes: ["a:x"], systemuserOrg: "991825827" }),
    ]);
    expect(keys.size).toBe(6);
  });

  it("two people never share a key, and a request without pid never has a pid request's key", () => {
    const base = { scopes: ["a:x"], exchange: "altinn" as const };
    const keys = new Set([keyOf(base), keyOf({ ...base, pid: PID_A }), keyOf({ ...base, pid: PID_B })]);
    expect(keys.size).toBe(3);
    expect(keyOf({ scopes: ["a:x"] })).not.toBe(keyOf(base));
  });
});
