import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseOAuthError, parseTokenResponse } from "../../lib/maskinporten/response.ts";
import { BACKOFF_BASE_MS, backoffMs, parseRetryAfter } from "../../lib/maskinporten/retry.ts";

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

describe("backoffMs", () => {
  it("waits between half and all of base * 2^(retry-1)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, r) => {
          const ceiling = BACKOFF_BASE_MS * 2 ** (retry - 1);
          const wait = backoffMs(retry, r);
          expect(wait).toBeGreaterThanOrEqual(ceiling / 2);
          expect(wait).toBeLessThanOrEqual(ceiling);
        },
      ),
    );
  });
});

describe("parseRetryAfter", () => {
  it("reads delta-seconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 86_400 }), (s) => {
        expect(parseRetryAfter(String(s), NOW)).toBe(s * 1000);
      }),
    );
  });

  it("reads an HTTP date as the time from now, never negative", () => {
    fc.assert(
      fc.property(fc.integer({ min: -3600, max: 3600 }), (s) => {
        expect(parseRetryAfter(new Date(NOW + s * 1000).toUTCString(), NOW)).toBe(Math.max(0, s * 1000));
      }),
    );
  });

  it("ignores what is neither", () => {
    for (const junk of [undefined, null, "", "2.5", "-1", "soon", "1e3", "Wed, 21 Oct 2015 07:28:00 PST"]) {
      expect(parseRetryAfter(junk, NOW)).toBeUndefined();
    }
    fc.assert(
      fc.property(fc.string(), (s) => {
        const ms = parseRetryAfter(s, NOW);
        expect(ms === undefined || (Number.isFinite(ms) && ms >= 0)).toBe(true);
      }),
    );
  });
});

describe("Maskinporten response bodies", () => {
  it("accepts only a complete token body, and drops extra fields", () => {
    const good = { access_token: "t", token_type: "Bearer", expires_in: 120, scope: "a b", extra: 1 };
    expect(parseTokenResponse(JSON.stringify(good))).toEqual({
      access_token: "t",
      token_type: "Bearer",
      expires_in: 120,
      scope: "a b",
    });
    for (const bad of [
      { ...good, access_token: "" },
      { ...good, expires_in: 0 },
      { ...good, expires_in: "120" },
      { access_token: "t", token_type: "Bearer", scope: "a" },
    ]) {
      expect(parseTokenResponse(JSON.stringify(bad))).toBeUndefined();
    }
    expect(parseTokenResponse("<html>")).toBeUndefined();
  });

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
