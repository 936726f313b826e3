import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  AuditTrail,
  altinnFields,
  attemptFields,
  FAILURE_EVENT,
  tokenFingerprint,
  upstreamOf,
} from "../../lib/audit/index.ts";
import {
  AccessDenied,
  InternalError,
  InvalidRequest,
  PayloadTooLarge,
  type Problem,
  RateLimited,
  SigningUnavailable,
  UnsupportedMediaType,
  UpstreamRejected,
  UpstreamUnavailable,
} from "../../lib/problem/index.ts";
import { auditRecord } from "../support/audit-lines.ts";
import { PID_A } from "../support/pid.ts";
import { asParsed } from "../support/request.ts";

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
        { ...attempt, attempt: 2, grantJti: "j2", upstreamStatus: 502, outcome: "http_502" },
        { ...attempt, attempt: 3, grantJti: "j3", upstreamStatus: 200, outcome: "ok" },
      ]),
    ).toStrictEqual({ grant_jti: "j3", grants_signed: 3, key: attempt.keyRef, upstream_status: 200 });
    expect(
      attemptFields([{ ...attempt, attempt: 1, grantJti: "j1", outcome: "signing_error" }]),
    ).toStrictEqual({
      key: attempt.keyRef,
    });
    expect(attemptFields([])).toStrictEqual({});
  });

  it("a grant that got no answer has no upstream_status, and a key that was never read is not named", () => {
    const timedOut = { attempt: 1, grantJti: "j1", signMs: 3, upstreamMs: 5000, outcome: "timeout" };
    expect(attemptFields([{ ...timedOut, keyRef: "arn:aws:kms:eu-north-1:1:key/k" }])).toStrictEqual({
      grant_jti: "j1",
      grants_signed: 1,
      key: "arn:aws:kms:eu-north-1:1:key/k",
    });
    expect(attemptFields([{ ...timedOut, keyRef: "unknown", outcome: "signing_error" }])).toStrictEqual({});
  });

  it("logs externalRef, consent id and onbehalfof with digit runs masked, and a person's consent without the pid", () => {
    const id = `77ed8698-e619-4066-9eb4-${PID_A}0`;
    expect(
      altinnFields(
        asParsed({
          scopes: ["a"],
          systemuserOrg: "974760673",
          systemuserExternalRef: `ref-${PID_A}`,
          onbehalfof: `kunde-${PID_A}`,
        }),
      ),
    ).toStrictEqual({ systemuser_external_ref: "ref-[pid]", onbehalfof: "kunde-[pid]" });
    expect(altinnFields(asParsed({ scopes: ["a"], consent: { id, from: PID_A } }))).toStrictEqual({
      consent_id: "77ed8698-e619-4066-9eb4-[pid]",
      consent_from_pseudonym: null,
    });
    expect(altinnFields(asParsed({ scopes: ["a"], consent: { id, from: "991825827" } }))).toStrictEqual({
      consent_id: "77ed8698-e619-4066-9eb4-[pid]",
      consent_from_org: "991825827",
    });
    expect(altinnFields(asParsed({ scopes: ["a"], pid: PID_A, resource: ["https://x.no"] }))).toStrictEqual(
      {},
    );
  });

  it("names the upstream of a failure that came from one, and none for the broker's own", () => {
    expect(upstreamOf(new UpstreamRejected(400, "invalid_scope", "", "altinn"))).toStrictEqual({
      upstream: "altinn",
    });
    expect(upstreamOf(new UpstreamUnavailable("Maskinporten timed out"))).toStrictEqual({
      upstream: "maskinporten",
    });
    expect(upstreamOf(new SigningUnavailable("the signing key"))).toStrictEqual({});
    expect(upstreamOf(new InternalError("x"))).toStrictEqual({});
  });
});

describe("whose fault a failed request was", () => {
  it.each<[Problem, string]>([
    [new AccessDenied("no rule"), "token_denied"],
    [new RateLimited("budget spent", 3), "token_denied"],
    [new InvalidRequest("bad scope"), "token_rejected"],
    [new PayloadTooLarge("too big"), "token_rejected"],
    [new UnsupportedMediaType("text/plain"), "token_rejected"],
    [new UpstreamRejected(400, "invalid_scope", ""), "token_failed"],
    [new UpstreamUnavailable("timeout"), "token_failed"],
    [new SigningUnavailable("the signing key"), "token_failed"],
    [new InternalError("bug"), "token_failed"],
  ])("%s is recorded as %s", (problem, event) => {
    expect(FAILURE_EVENT[problem.code]).toBe(event);
  });
});

describe("audit lines and diagnostics of the trail", () => {
  it("time-stamps the audit line and its metrics with the injected clock", () => {
    const writes: string[] = [];
    const now = Date.parse("2026-05-17T08:00:00.000Z");
    new AuditTrail({ write: (text) => writes.push(text), now: () => now }).record(
      auditRecord({ event: "token_issued", cache: "hit" }),
      [],
    );
    const [audit, emf] = (writes[0] ?? "").split("\n").map((line) => (line === "" ? {} : JSON.parse(line)));
    expect(audit).toMatchObject({ timestamp: "2026-05-17T08:00:00.000Z", event: "token_issued" });
    expect(emf).toMatchObject({ _aws: { Timestamp: now } });
  });

  it("a record with nothing to count is the audit line alone, with no EMF document", () => {
    const writes: string[] = [];
    new AuditTrail({ write: (text) => writes.push(text), now: () => 0 }).record(
      auditRecord({ event: "token_refreshed", cache: "refresh" }),
      [],
    );
    expect(writes).toHaveLength(1);
    const lines = (writes[0] ?? "").split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({ event: "token_refreshed" });
  });

  it("a skewed clock is a warning with the skew in whole milliseconds", () => {
    const warnings: [string, Readonly<Record<string, unknown>>][] = [];
    const logger = {
      warn: (message: string, fields: Readonly<Record<string, unknown>>) => warnings.push([message, fields]),
      error: () => {},
    };
    new AuditTrail({ logger, write: () => {} }).clockSkew(6543.6);
    expect(warnings).toEqual([["maskinporten_clock_skew", { skew_ms: 6544 }]]);
  });
});
