import { describe, expect, it } from "vitest";
import type { ExchangeAttempt } from "../../lib/altinn/exchange.ts";
import { type AuditRecord, AuditTrail, exchangeFields } from "../../lib/audit/index.ts";
import type { AttemptRecord } from "../../lib/maskinporten/types.ts";
import { auditRecord } from "../support/audit-lines.ts";

interface Published {
  /** The EMF directive's namespace and dimension sets, and the document's service and Client members. */
  target: { namespace: unknown; dimensions: unknown; service: unknown; client: unknown };
  /** Each metric's unit, by name, as the EMF directive declares it. */
  units: Record<string, string>;
  /** Each metric's value (an array when it was published more than once). */
  values: Record<string, unknown>;
}

/** The metrics one audit call publishes, read back from its EMF document. */
function published(write: (audit: AuditTrail) => void): Published {
  const writes: string[] = [];
  write(new AuditTrail({ write: (text) => writes.push(text), now: () => 1_795_000_000_000 }));
  expect(writes).toHaveLength(1);
  const emf = (writes[0] ?? "").split("\n")[1] ?? "";
  const document = JSON.parse(emf) as {
    _aws: {
      CloudWatchMetrics: {
        Namespace: string;
        Dimensions: string[][];
        Metrics: { Name: string; Unit: string }[];
      }[];
    };
  } & Record<string, unknown>;
  const directive = document._aws.CloudWatchMetrics[0];
  const definitions = directive?.Metrics ?? [];
  return {
    target: {
      namespace: directive?.Namespace,
      dimensions: directive?.Dimensions,
      service: document.service,
      client: document.Client,
    },
    units: Object.fromEntries(definitions.map((d) => [d.Name, d.Unit])),
    values: Object.fromEntries(definitions.map((d) => [d.Name, document[d.Name]])),
  };
}

const ATTEMPT = { grantJti: "j", keyRef: "arn:aws:kms:eu-north-1:1:key/k", signMs: 3, upstreamMs: 20 };
const exchangeAttempt = (attempt: number, upstreamStatus: number, outcome: string): ExchangeAttempt => ({
  attempt,
  upstreamStatus,
  upstreamMs: 10 * attempt,
  outcome,
});

describe("the metrics of an audit record", () => {
  it("RateLimited only on a record refused with rate_limited, which also counts as Denied", () => {
    const denied = (code: string) => auditRecord({ event: "token_denied", code });
    expect(published((audit) => audit.record(denied("rate_limited"), [])).values).toStrictEqual({
      TokenRequests: 1,
      Denied: 1,
      RateLimited: 1,
    });
    expect(published((audit) => audit.record(denied("access_denied"), [])).values).toStrictEqual({
      TokenRequests: 1,
      Denied: 1,
    });
    const issued = auditRecord({ event: "token_issued", cache: "hit" });
    expect(published((audit) => audit.record(issued, [])).values).toStrictEqual({
      TokenRequests: 1,
      CacheHits: 1,
    });
  });

  it("a cold-start failure counts under SigningErrors or UpstreamErrors by its code, and no other name", () => {
    const failed = (code: string | undefined): AuditRecord =>
      auditRecord({ event: "token_failed", ...(code === undefined ? {} : { code }) });
    expect(published((audit) => audit.startFailed(failed("upstream_unavailable"))).values).toStrictEqual({
      TokenRequests: 1,
      UpstreamErrors: 1,
    });
    expect(published((audit) => audit.startFailed(failed("signing_unavailable"))).values).toStrictEqual({
      TokenRequests: 1,
      SigningErrors: 1,
    });
    for (const code of ["internal_error", undefined]) {
      expect(published((audit) => audit.startFailed(failed(code))).values, String(code)).toStrictEqual({
        TokenRequests: 1,
      });
    }
  });

  it("latencies are in Milliseconds and counts in Count, one value per attempt", () => {
    const attempts: AttemptRecord[] = [
      { ...ATTEMPT, attempt: 1, upstreamStatus: 503, outcome: "http_503" },
      { ...ATTEMPT, attempt: 2, signMs: 4, upstreamMs: 30, upstreamStatus: 200, outcome: "ok" },
    ];
    const exchange = [exchangeAttempt(1, 503, "http_503"), exchangeAttempt(2, 200, "ok")];
    const record = auditRecord({ event: "token_issued", cache: "miss" });
    const metrics = published((audit) => audit.record(record, attempts, exchange));
    expect(metrics.units).toEqual({
      TokenRequests: "Count",
      CacheMisses: "Count",
      SignLatency: "Milliseconds",
      UpstreamLatency: "Milliseconds",
      UpstreamErrors: "Count",
      ExchangeLatency: "Milliseconds",
      ExchangeErrors: "Count",
    });
    expect(metrics.values).toMatchObject({
      SignLatency: [3, 4],
      UpstreamLatency: [20, 30],
      UpstreamErrors: 1,
      ExchangeLatency: [10, 20],
      ExchangeErrors: 1,
    });
  });

  it("an upstream's 4xx other than 429 is a rejection; 429, 5xx, a redirect and no answer at all are errors", () => {
    const attempt = (n: number, upstreamStatus?: number): AttemptRecord => ({
      ...ATTEMPT,
      attempt: n,
      ...(upstreamStatus === undefined
        ? { outcome: "timeout" }
        : { upstreamStatus, outcome: `http_${upstreamStatus}` }),
    });
    const failed = auditRecord({ event: "token_failed", code: "upstream_rejected", cache: "miss" });
    const count = (status: number | undefined) => {
      const { values } = published((audit) =>
        audit.record(
          failed,
          [attempt(1, status)],
          [
            {
              attempt: 1,
              upstreamMs: 10,
              outcome: "timeout",
              ...(status === undefined ? {} : { upstreamStatus: status, outcome: `http_${status}` }),
            },
          ],
        ),
      );
      return [
        values.UpstreamRejections,
        values.UpstreamErrors,
        values.ExchangeRejections,
        values.ExchangeErrors,
      ];
    };
    for (const status of [400, 401, 403, 499])
      expect(count(status), String(status)).toEqual([1, undefined, 1, undefined]);
    for (const status of [undefined, 302, 429, 500, 503]) {
      expect(count(status), String(status)).toEqual([undefined, 1, undefined, 1]);
    }
  });

  it("a coalesced request counts as Coalesced, in the TokenBroker namespace per service and per client", () => {
    const metrics = published((audit) =>
      audit.record(auditRecord({ event: "token_issued", cache: "coalesced" }), []),
    );
    expect(metrics.values).toStrictEqual({ TokenRequests: 1, Coalesced: 1 });
    expect(metrics.target).toStrictEqual({
      namespace: "TokenBroker",
      dimensions: [["service"], ["service", "Client"]],
      service: "maskinporten-broker",
      client: "default",
    });
  });

  it("a metric published three times has its three values in order", () => {
    const attempts: AttemptRecord[] = [1, 2, 3].map((n) => ({
      ...ATTEMPT,
      attempt: n,
      signMs: n,
      upstreamStatus: n === 3 ? 200 : 503,
      outcome: n === 3 ? "ok" : "http_503",
    }));
    const metrics = published((audit) =>
      audit.record(auditRecord({ event: "token_issued", cache: "miss" }), attempts),
    );
    expect(metrics.values).toMatchObject({
      SignLatency: [1, 2, 3],
      UpstreamLatency: [20, 20, 20],
      UpstreamErrors: [1, 1],
    });
  });

  it("a signing failure counts SigningErrors and no upstream latency, since no call was made", () => {
    const attempts: AttemptRecord[] = [{ ...ATTEMPT, attempt: 1, outcome: "signing_error" }];
    const record = auditRecord({ event: "token_failed", code: "signing_unavailable", cache: "miss" });
    expect(published((audit) => audit.record(record, attempts)).values).toStrictEqual({
      TokenRequests: 1,
      CacheMisses: 1,
      SignLatency: 3,
      SigningErrors: 1,
    });
  });

  it("a background refresh is no request: no TokenRequests", () => {
    const record = auditRecord({ event: "token_refreshed", cache: "refresh" });
    const attempts: AttemptRecord[] = [{ ...ATTEMPT, attempt: 1, upstreamStatus: 200, outcome: "ok" }];
    expect(published((audit) => audit.record(record, attempts)).values).toStrictEqual({
      SignLatency: 3,
      UpstreamLatency: 20,
    });
  });
});

describe("exchange_status", () => {
  it("is Altinn's status on the last exchange call, not the first", () => {
    const three = [
      exchangeAttempt(1, 503, "http_503"),
      exchangeAttempt(2, 502, "http_502"),
      exchangeAttempt(3, 200, "ok"),
    ];
    expect(exchangeFields(three)).toStrictEqual({ exchange_status: 200 });
    expect(exchangeFields(three.slice(0, 2))).toStrictEqual({ exchange_status: 502 });
    expect(exchangeFields(three.slice(0, 1))).toStrictEqual({ exchange_status: 503 });
  });

  it("is left out when no call was made or the last one got no answer", () => {
    expect(exchangeFields([])).toStrictEqual({});
    expect(
      exchangeFields([
        exchangeAttempt(1, 503, "http_503"),
        { attempt: 2, upstreamMs: 5000, outcome: "timeout" },
      ]),
    ).toStrictEqual({});
  });
});
