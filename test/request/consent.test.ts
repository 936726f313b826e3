// Tests for consent, externalRef and onbehalfof: what a caller may send, what it is told, and whom a consent names.
import { describe, expect, it } from "vitest";
import { Problem } from "../../lib/problem/index.ts";
import {
  consentParty,
  isPersonConsent,
  parseTokenRequest,
  repeatingParser,
  type TokenRequestOptions,
} from "../../lib/request/index.ts";
import { PID_A, SYNTHETIC_PID_40, SYNTHETIC_PID_80 } from "../support/pid.ts";
import { asParty } from "../support/request.ts";

const JSON_TYPE = "application/json";
const TEST = { environment: "test" } as const;
const PROD = { environment: "prod" } as const;
const ID = "77ed8698-e619-4066-9eb4-5c1eb3f165a1";
const ORG = "991825827";

const raw = (body: unknown) => ({
  body: JSON.stringify(body),
  isBase64Encoded: false,
  contentType: JSON_TYPE,
});
const detailOf = (body: unknown, options: TokenRequestOptions = TEST): string => {
  try {
    parseTokenRequest(raw(body), options);
  } catch (error) {
    if (error instanceof Problem) return `${error.code}: ${error.detail}`;
    throw error;
  }
  throw new Error("expected a problem");
};

describe("consent", () => {
  it("a consent id is a whole UUID: text before or after one is refused", () => {
    for (const id of [`x${ID}`, `${ID}x`, ` ${ID}`, `${ID}\n`, `urn:uuid:${ID}`, `${ID}-${ID}`]) {
      expect(detailOf({ scope: "a", consent: { id, from: ORG } }), JSON.stringify(id)).toBe(
        "invalid_request: consent.id: expected the consent request's UUID",
      );
    }
    expect(
      parseTokenRequest(raw({ scope: "a", consent: { id: ID, from: ORG } }), PROD).request.consent,
    ).toEqual({
      id: ID,
      from: ORG,
    });
  });

  it("a synthetic test identity may give a consent in test, and is refused in prod without being echoed", () => {
    for (const from of [SYNTHETIC_PID_40, SYNTHETIC_PID_80]) {
      const body = { scope: "a", consent: { id: ID, from } };
      expect(parseTokenRequest(raw(body), TEST).request.consent).toEqual({ id: ID, from });
      const detail = detailOf(body, PROD);
      expect(detail).toMatch(
        /^invalid_request: consent\.from: expected an 11-digit national identity number/,
      );
      expect(detail).not.toContain(from.slice(0, 6));
    }
    expect(
      parseTokenRequest(raw({ scope: "a", consent: { id: ID, from: PID_A } }), PROD).request.consent,
    ).toEqual({
      id: ID,
      from: PID_A,
    });
  });

  it("a person's consent is from the person's URN and is a person's; an organisation's is neither", () => {
    expect(isPersonConsent({ from: asParty(PID_A) })).toBe(true);
    expect(consentParty({ from: asParty(PID_A) })).toBe(`urn:altinn:person:identifier-no:${PID_A}`);
    expect(isPersonConsent({ from: asParty(ORG) })).toBe(false);
    expect(consentParty({ from: asParty(ORG) })).toBe(`urn:altinn:organization:identifier-no:${ORG}`);
  });

  it("a consent remembered for a repeated body cannot be changed by one request for the next", () => {
    const parse = repeatingParser(TEST);
    const body = raw({ scope: "a", consent: { id: ID, from: ORG } });
    const first = parse(body).request.consent;
    expect(first).toBeDefined();
    if (first === undefined) return;
    expect(() => {
      (first as { from: string }).from = PID_A;
    }).toThrow(TypeError);
    expect(parse(body).request.consent).toEqual({ id: ID, from: ORG });
  });
});

describe("externalRef and onbehalfof", () => {
  it("a bad externalRef is told the characters and length it may have", () => {
    for (const ref of ["", "a b", "x".repeat(256), "æ"]) {
      expect(detailOf({ scope: "a", systemuser_org: "974760673", systemuser_external_ref: ref })).toBe(
        "invalid_request: systemuser_external_ref: expected 1 to 255 printable ASCII characters, no spaces or control characters",
      );
    }
  });

  it("a bad onbehalfof is told the characters and length it may have", () => {
    for (const value of ["", "a/b", "x".repeat(65)]) {
      expect(detailOf({ scope: "a", onbehalfof: value })).toBe(
        "invalid_request: onbehalfof: expected 1 to 64 characters of letters, digits, '.', '_' or '-'",
      );
    }
  });
});
