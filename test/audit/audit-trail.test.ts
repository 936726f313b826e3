import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { attemptFields, tokenFingerprint } from "../../lib/audit/index.ts";

describe("audit fields", () => {
  it("fingerprints a token as the first 16 hex characters of its SHA-256", () => {
    const token = "eyJhbGciOiJSUzI1NiJ9.payload.signature";
    expect(tokenFingerprint(token)).toBe(createHash("sha256").update(token).digest("hex").slice(0, 16));
    expect(tokenFingerprint(token)).toMatch(/^[0-9a-f]{16}$/);
  });

  it("names the last signed grant, counts the grants, and leaves out what did not happen", () => {
    const attempt = { keyRef: "arn:aws:kms:eu-north-1:1:key/k", signMs: 3, upstreamMs: 10 };
    expect(
      attemptFields([
        { ...attempt, attempt: 1, grantJti: "j1", upstreamStatus: 503, outcome: "http_503" },
        { ...attempt, attempt: 2, grantJti: "j2", upstreamStatus: 200, outcome: "ok" },
      ]),
    ).toEqual({ grant_jti: "j2", grants_signed: 2, key: attempt.keyRef, upstream_status: 200 });
    expect(attemptFields([{ ...attempt, attempt: 1, grantJti: "j1", outcome: "signing_error" }])).toEqual({
      key: attempt.keyRef,
    });
    expect(attemptFields([])).toEqual({});
  });
});
