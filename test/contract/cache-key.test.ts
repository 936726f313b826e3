import { describe, expect, it } from "vitest";
import { cacheKey } from "../../lib/contract/index.ts";
import type { TokenRequest } from "../../lib/request/index.ts";
import { PID_A, PID_B } from "../support/pid.ts";

const FULL: Required<TokenRequest> = {
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
const CHANGED: { readonly [K in keyof TokenRequest]-?: Required<TokenRequest>[K] } = {
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
    expect(cacheKey({ ...without, resource: [] })).toBe(cacheKey(without));
  });

  it("each request field changes the key: its value, and whether it is present at all", () => {
    const key = cacheKey(FULL);
    for (const field of Object.keys(CHANGED) as (keyof TokenRequest)[]) {
      if (field !== "exchange") {
        expect(cacheKey({ ...FULL, [field]: CHANGED[field] }), `${field} changed`).not.toBe(key);
      }
      if (field === "scopes") continue;
      const { [field]: _omitted, ...without } = FULL;
      expect(cacheKey(without), `${field} omitted`).not.toBe(key);
    }
  });

  it("the order and repeats of scopes and resources do not change the key", () => {
    expect(
      cacheKey({
        ...FULL,
        scopes: ["b:y", "a:x", "b:y"],
        resource: ["https://b.example/", "https://a.example/", "https://b.example/"],
      }),
    ).toBe(cacheKey(FULL));
  });

  it("the same request for two clients is two keys", () => {
    expect(cacheKey({ scopes: ["a:x"], client: "payroll" })).not.toBe(
      cacheKey({ scopes: ["a:x"], client: "vat" }),
    );
  });

  it("an empty resource list is no resource, as in the grant", () => {
    expect(cacheKey({ scopes: ["a:x"], resource: [] })).toBe(cacheKey({ scopes: ["a:x"] }));
  });

  it("a value moved from one field to another is a different key", () => {
    const org = "991825827";
    expect(cacheKey({ scopes: ["a:x"], consumerOrg: org })).not.toBe(
      cacheKey({ scopes: ["a:x"], systemuserOrg: org }),
    );
    expect(cacheKey({ scopes: ["a:x", "b:y"] })).not.toBe(cacheKey({ scopes: ["a:x b:y"] }));
  });

  it("a consent's id and who gave it each change the key, and a person's consent is not their pid token", () => {
    const id = "77ed8698-e619-4066-9eb4-5c1eb3f165a1";
    const keys = new Set([
      cacheKey({ scopes: ["a:x"], consent: { id, from: PID_A } }),
      cacheKey({ scopes: ["a:x"], consent: { id: "b55b0a8c-46db-4239-a417-a89daabfabba", from: PID_A } }),
      cacheKey({ scopes: ["a:x"], consent: { id, from: "991825827" } }),
      cacheKey({ scopes: ["a:x"], pid: PID_A }),
      cacheKey({ scopes: ["a:x"], systemuserOrg: "991825827", systemuserExternalRef: "991825827" }),
      cacheKey({ scopes: ["a:x"], systemuserOrg: "991825827" }),
    ]);
    expect(keys.size).toBe(6);
  });

  it("two people never share a key, and a request without pid never has a pid request's key", () => {
    const base = { scopes: ["a:x"], exchange: "altinn" as const };
    const keys = new Set([
      cacheKey(base),
      cacheKey({ ...base, pid: PID_A }),
      cacheKey({ ...base, pid: PID_B }),
    ]);
    expect(keys.size).toBe(3);
    expect(cacheKey({ scopes: ["a:x"] })).not.toBe(cacheKey(base));
  });
});
