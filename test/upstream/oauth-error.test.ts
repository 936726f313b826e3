import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseOAuthError } from "../../lib/upstream/oauth-error.ts";

describe("Maskinporten's OAuth error bodies", () => {
  it("passes an OAuth error through, sanitised, and never echoes a body that is not one", () => {
    expect(parseOAuthError('{"error":"invalid_grant","error_description":"MP-130\\nexpired"}', 400)).toEqual({
      error: "invalid_grant",
      errorDescription: "MP-130 expired",
    });
    fc.assert(
      fc.property(fc.string(), (body) => {
        const parsed = parseOAuthError(body, 400);
        if (parsed.error === "unknown") {
          expect(parsed.errorDescription).toBe("Maskinporten answered HTTP 400 without an OAuth error body");
        }
        expect(parsed.errorDescription.length).toBeLessThanOrEqual(500);
      }),
    );
  });

  it("cuts an OAuth error's description at 500 characters, for any code and description (property)", () => {
    const word = fc.constantFrom(
      "MP-130",
      "the",
      "grant",
      "is",
      "expired",
      "invalid",
      "audience",
      "jti",
      "used",
    );
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z_]{1,40}$/),
        fc.array(word, { maxLength: 300, size: "max" }).map((words) => words.join(" ")),
        (error, description) => {
          const parsed = parseOAuthError(JSON.stringify({ error, error_description: description }), 400);
          expect(parsed.error).toBe(error);
          expect(parsed.errorDescription).toBe(description.slice(0, 500));
        },
      ),
    );
    const long = JSON.stringify({ error: "invalid_grant", error_description: "expired ".repeat(100) });
    expect(parseOAuthError(long, 400).errorDescription).toHaveLength(500);
  });

  it("never passes on eleven digits in a row (a pid quoted back), and names the upstream of a body that is no error", () => {
    const body = JSON.stringify({
      error: "invalid_request",
      error_description: "MP-011 pid 17058510068 invalid",
    });
    expect(parseOAuthError(body, 400).errorDescription).toBe("MP-011 pid [pid] invalid");
    const inLongerNumber = JSON.stringify({
      error: "invalid_pid_17058510068",
      error_description: "ref 170585100689 and 17058510068x",
    });
    expect(parseOAuthError(inLongerNumber, 400)).toEqual({
      error: "invalid_pid_[pid]",
      errorDescription: "ref [pid] and [pid]x",
    });
    expect(parseOAuthError("", 401, "altinn").errorDescription).toBe(
      "Altinn answered HTTP 401 without an OAuth error body",
    );
  });
});

describe("an upstream OAuth error code", () => {
  const unknown = {
    error: "unknown",
    errorDescription: "Maskinporten answered HTTP 400 without an OAuth error body",
  };

  it("is passed on only when all of it is RFC 6749 characters, at most 100 of them", () => {
    const body = (error: string) => JSON.stringify({ error, error_description: "MP-130 expired" });
    expect(parseOAuthError(body("invalid_grant"), 400)).toEqual({
      error: "invalid_grant",
      errorDescription: "MP-130 expired",
    });
    expect(parseOAuthError(body("x".repeat(100)), 400).error).toBe("x".repeat(100));
    for (const error of ["é invalid_grant", "invalid_grant é", 'invalid"grant', "x".repeat(101), ""]) {
      expect(parseOAuthError(body(error), 400), error).toEqual(unknown);
    }
  });

  it("without a description is passed on with an empty one", () => {
    expect(parseOAuthError(JSON.stringify({ error: "invalid_scope" }), 400)).toEqual({
      error: "invalid_scope",
      errorDescription: "",
    });
  });
});
