// The audit record of every /token request (one line at any log level) and its TokenBroker EMF metrics (one line),
// written together in one write; diagnostics levelled (diagnostics.ts).
import { createHash } from "node:crypto";
import type { ExchangeAttempt } from "../altinn/exchange.ts";
import type { ProblemCode } from "../contract/index.ts";
import type { AttemptRecord } from "../maskinporten/types.ts";
import {
  maskDigitRuns,
  type Problem,
  type Upstream,
  UpstreamRejected,
  UpstreamUnavailable,
} from "../problem/index.ts";
import { isPerson } from "../request/consent.ts";
import type { NotPid, TokenRequest } from "../request/types.ts";
import { auditLine, type LineWriter, stdoutWriter } from "./audit-line.ts";
import { type DiagnosticLogger, diagnosticLogger } from "./diagnostics.ts";
import { type EmfTarget, emfLine, type MetricValue } from "./emf.ts";
import { serviceName } from "./service-name.ts";

export const METRICS_NAMESPACE = "TokenBroker";

/** `token_rejected`: the request itself was at fault (400, 413, 415); `token_failed`: the broker or an upstream. */
export type AuditEvent =
  | "token_issued"
  | "token_denied"
  | "token_rejected"
  | "token_failed"
  | "token_refreshed";

/**
 * Whose fault a failed request was: the policy's (denied), the request's own (rejected: bad body, size, media
 * type, a min_ttl that cannot be met), or the broker's or an upstream's (failed).
 */
export const FAILURE_EVENT: Readonly<Record<ProblemCode, AuditEvent>> = {
  access_denied: "token_denied",
  rate_limited: "token_denied",
  invalid_request: "token_rejected",
  payload_too_large: "token_rejected",
  unsupported_media_type: "token_rejected",
  upstream_rejected: "token_failed",
  upstream_unavailable: "token_failed",
  signing_unavailable: "token_failed",
  internal_error: "token_failed",
};

/**
 * The audit record (docs/api.md); `code` and `reason` added on denied and failed records. Never the token itself,
 * and never a pid: its text fields are NotPid, so a Pid written into one does not compile.
 */
export interface AuditRecord {
  event: AuditEvent;
  principal: NotPid | null;
  session: NotPid | null;
  account: NotPid | null;
  source_ip: NotPid | null;
  vpce_id: NotPid | null;
  /** The configured Maskinporten client's name, once the request's client is settled. */
  client: NotPid | null;
  scopes: readonly NotPid[] | null;
  resource: readonly NotPid[] | null;
  consumer_org: NotPid | null;
  systemuser_org: NotPid | null;
  /** The exchange asked for ("altinn"), else null. */
  exchange: "altinn" | null;
  /** HMAC-SHA-256 of the request's pid under PID_PSEUDONYM_KEY; never the pid. Null without a pid. */
  pid_pseudonym: NotPid | null;
  /** The Altinn fields, present when the request carries them (altinnFields). */
  systemuser_external_ref?: NotPid;
  consent_id?: NotPid;
  /** The pseudonym of the person who gave the consent, as pid_pseudonym; never their pid. */
  consent_from_pseudonym?: NotPid | null;
  /** The organisation that gave the consent. */
  consent_from_org?: NotPid;
  onbehalfof?: NotPid;
  /** `refused`: a Maskinporten refusal for this request, remembered; no grant was signed. */
  cache: "hit" | "miss" | "coalesced" | "refresh" | "refused" | null;
  /** The grant behind this token, when this request (or refresh) signed one. */
  grant_jti?: NotPid;
  /** Grants signed for this request (more than one when attempts were retried). */
  grants_signed?: number;
  key?: NotPid;
  upstream_status?: number;
  /** Altinn's HTTP status on the last exchange call this request (or refresh) made. */
  exchange_status?: number;
  /** Which service failed, on a failure that came from one. */
  upstream?: Upstream;
  token_fingerprint?: NotPid;
  expires_in?: number;
  latency_ms: number;
  request_id: NotPid;
  code?: NotPid;
  reason?: NotPid;
}

/**
 * The request's externalRef, consent and onbehalfof as audit fields, the ones it carries. They are sent to
 * Maskinporten as given, but logged with digit runs masked: a vendor's externalRef or a consent's UUID may hold 11
 * digits in a row, which may be a pid. A person's consent gets a null pseudonym here, which the broker fills in
 * once the policy lets it compute one.
 */
export function altinnFields(
  request: TokenRequest,
): Pick<
  AuditRecord,
  "systemuser_external_ref" | "consent_id" | "consent_from_pseudonym" | "consent_from_org" | "onbehalfof"
> {
  const { systemuserExternalRef, consent, onbehalfof } = request;
  const from =
    consent === undefined
      ? {}
      : isPerson(consent.from)
        ? { consent_from_pseudonym: null }
        : { consent_from_org: consent.from };
  return {
    ...(systemuserExternalRef === undefined
      ? {}
      : { systemuser_external_ref: maskDigitRuns(systemuserExternalRef) }),
    ...(consent === undefined ? {} : { consent_id: maskDigitRuns(consent.id), ...from }),
    ...(onbehalfof === undefined ? {} : { onbehalfof: maskDigitRuns(onbehalfof) }),
  };
}

/** First 16 hex characters of the SHA-256 of the token: links records to a token without revealing it. */
export function tokenFingerprint(token: string): string {
  return createHash("sha256").update(token).digest("hex").slice(0, 16);
}

/**
 * The attempt facts (jti of the last grant, key, upstream status) as audit fields; nothing when none was signed.
 * Only the fields that hold a value, like the other field builders here: records spread them over fields set before.
 */
export function attemptFields(
  attempts: readonly AttemptRecord[],
): Pick<AuditRecord, "grant_jti" | "grants_signed" | "key" | "upstream_status"> {
  const signed = attempts.filter((a) => a.outcome !== "signing_error");
  const last = attempts.at(-1);
  if (last === undefined) return {};
  return {
    ...(signed.length === 0
      ? {}
      : { grant_jti: signed.at(-1)?.grantJti ?? "", grants_signed: signed.length }),
    ...(last.keyRef === "unknown" ? {} : { key: last.keyRef }),
    ...(last.upstreamStatus === undefined ? {} : { upstream_status: last.upstreamStatus }),
  };
}

/** The exchange facts (Altinn's last status) as audit fields; nothing when no exchange call was made. */
export function exchangeFields(attempts: readonly ExchangeAttempt[]): Pick<AuditRecord, "exchange_status"> {
  const status = attempts.at(-1)?.upstreamStatus;
  return status === undefined ? {} : { exchange_status: status };
}

/** Which upstream a failure came from, when it came from one. */
export function upstreamOf(problem: Problem): Pick<AuditRecord, "upstream"> {
  return problem instanceof UpstreamRejected || problem instanceof UpstreamUnavailable
    ? { upstream: problem.upstream }
    : {};
}

export interface AuditSinks {
  /** Diagnostics (clock skew, key refresh failures): they follow the log level. */
  logger?: DiagnosticLogger;
  /** Where audit lines and their EMF documents go (both lines in one call); stdout by default. */
  write?: LineWriter;
  /** Wall clock, epoch ms: the audit line's and the EMF document's timestamp. */
  now?: () => number;
  /** The `service` of every line and the metrics' `service` dimension; POWERTOOLS_SERVICE_NAME by default. */
  service?: string;
}

const COUNT = (name: string): MetricValue => ({ name, unit: "Count", value: 1 });
const MS = (name: string, value: number): MetricValue => ({ name, unit: "Milliseconds", value });

const CACHE_METRIC: Readonly<Record<string, string>> = {
  hit: "CacheHits",
  miss: "CacheMisses",
  coalesced: "Coalesced",
};
const START_FAILURE_METRIC: Readonly<Record<string, string>> = {
  signing_unavailable: "SigningErrors",
  upstream_unavailable: "UpstreamErrors",
};

/**
 * Which count a failed attempt adds to: a refusal (4xx other than 429: the request or the client's registration is
 * wrong, and no retry helps) or an error (5xx, 429, timeout, network, redirect, a body that is no token: the
 * service is failing). The alarms watch the errors; a caller asking for a scope the client lacks raises none.
 */
function failureMetric(
  attempt: { readonly outcome: string; readonly upstreamStatus?: number },
  error: string,
  rejection: string,
): string | undefined {
  if (attempt.outcome === "ok") return undefined;
  const status = attempt.upstreamStatus ?? 0;
  return status >= 400 && status < 500 && status !== 429 ? rejection : error;
}

export class AuditTrail {
  readonly logger: DiagnosticLogger;
  private readonly write: LineWriter;
  private readonly now: () => number;
  private readonly emf: EmfTarget;

  constructor(sinks: AuditSinks = {}) {
    const service = sinks.service ?? serviceName();
    this.logger = sinks.logger ?? diagnosticLogger(service);
    this.write = sinks.write ?? stdoutWriter;
    this.now = sinks.now ?? Date.now;
    this.emf = { namespace: METRICS_NAMESPACE, service };
  }

  /** Writes the record and publishes its metrics: one audit line and one EMF document per call. */
  record(
    record: AuditRecord,
    attempts: readonly AttemptRecord[],
    exchangeAttempts: readonly ExchangeAttempt[] = [],
    extra: readonly MetricValue[] = [],
  ): void {
    const metrics: MetricValue[] = [...extra];
    if (record.event !== "token_refreshed") metrics.push(COUNT("TokenRequests"));
    if (record.event === "token_denied") metrics.push(COUNT("Denied"));
    if (record.code === "rate_limited") metrics.push(COUNT("RateLimited"));
    const cacheMetric = record.cache === null ? undefined : CACHE_METRIC[record.cache];
    if (cacheMetric !== undefined) metrics.push(COUNT(cacheMetric));
    for (const attempt of attempts) {
      metrics.push(MS("SignLatency", attempt.signMs));
      if (attempt.outcome === "signing_error") {
        metrics.push(COUNT("SigningErrors"));
        continue;
      }
      metrics.push(MS("UpstreamLatency", attempt.upstreamMs));
      const failure = failureMetric(attempt, "UpstreamErrors", "UpstreamRejections");
      if (failure !== undefined) metrics.push(COUNT(failure));
    }
    // Altinn apart from Maskinporten: an alarm on UpstreamErrors says Maskinporten, one on ExchangeErrors Altinn.
    for (const attempt of exchangeAttempts) {
      metrics.push(MS("ExchangeLatency", attempt.upstreamMs));
      const failure = failureMetric(attempt, "ExchangeErrors", "ExchangeRejections");
      if (failure !== undefined) metrics.push(COUNT(failure));
    }
    // With a client, two dimension sets in the EMF document: per service (what the alarms watch) and per client.
    const now = this.now();
    const audit = auditLine(record, new Date(now).toISOString(), this.emf.service);
    this.write(metrics.length === 0 ? audit : audit + emfLine(this.emf, now, metrics, record.client));
  }

  /**
   * A /token request failed before any grant was attempted (the broker could not be built): its record, and the
   * error metric its code stands for, so the SigningErrors / UpstreamErrors alarms see a failing cold start too.
   */
  startFailed(record: AuditRecord): void {
    const metric = record.code === undefined ? undefined : START_FAILURE_METRIC[record.code];
    this.record(record, [], [], metric === undefined ? [] : [COUNT(metric)]);
  }

  /** Maskinporten's clock and ours differ by more than 5 s. */
  clockSkew(skewMs: number): void {
    this.logger.warn("maskinporten_clock_skew", { skew_ms: Math.round(skewMs) });
  }

  /** A diagnostic warning (e.g. a failed signing key refresh), at WARN through the levelled logger. */
  warn(event: string, fields: Readonly<Record<string, unknown>>): void {
    this.logger.warn(event, { ...fields });
  }
}
