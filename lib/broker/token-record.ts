// The audit record of one /token request, built in this one place: who called, what it asked, how it ended.
import {
  type AuditRecord,
  type AuditTrail,
  altinnFields,
  attemptFields,
  exchangeFields,
  FAILURE_EVENT,
  upstreamOf,
} from "../audit/index.ts";
import type { CacheResult } from "../cache/index.ts";
import type { TokenResponse } from "../contract/index.ts";
import { normalisePrincipal, type Principal } from "../policy/index.ts";
import { maskDigitRuns, type Problem, shownArn } from "../problem/index.ts";
import type { TokenRequest } from "../request/index.ts";
import type { CallerContext } from "./call.ts";
import type { RequestTrace } from "./trace.ts";

/** A token as cached: Maskinporten's answer (or Altinn's, for an exchange). */
export interface Minted {
  token: TokenResponse;
  /** Computed once per token, not on every hit that serves it. */
  fingerprint: string;
}

/** Where a record is written and how its latency is measured. */
export interface RecordSink {
  readonly audit: AuditTrail;
  /** Monotonic clock, ms. */
  readonly monotonic: () => number;
}

export class TokenRecord {
  private constructor(
    /**
     * Filled in as the request proceeds, and written once. A refresh or an exchange's source copies it before
     * `issued` adds the outcome: the cache starts their load before it answers the hit that set them off.
     */
    private readonly fields: AuditRecord,
    /** The caller, normalised (null without an IAM identity). */
    readonly principal: Principal | null,
    private readonly sink: RecordSink,
    private readonly started: number,
  ) {}

  /**
   * A request's record before its body is read: who called. A `token_failed` with no request fields until the
   * request says more.
   */
  static of(
    call: { caller: CallerContext; requestId: string },
    sink: RecordSink,
    started = sink.monotonic(),
  ): TokenRecord {
    const userArn = call.caller.userArn ?? null;
    const principal = userArn === null || userArn === "" ? null : normalisePrincipal(userArn);
    const fields: AuditRecord = {
      event: "token_failed",
      // The caller chose its session name (and a federated user's name): logged with digit runs masked.
      principal: principal === null ? null : shownArn(principal.arn),
      session:
        principal?.kind !== "arn" || principal.session === undefined
          ? null
          : maskDigitRuns(principal.session),
      account: call.caller.accountId ?? null,
      source_ip: call.caller.sourceIp ?? null,
      vpce_id: call.caller.vpceId ?? null,
      client: null,
      scopes: null,
      resource: null,
      consumer_org: null,
      systemuser_org: null,
      exchange: null,
      pid_pseudonym: null,
      cache: null,
      latency_ms: 0,
      request_id: call.requestId,
    };
    return new TokenRecord(fields, principal, sink, started);
  }

  /** What the request asked for, once parsed (its client as named, if it named one). */
  asked(request: TokenRequest): void {
    const fields = this.fields;
    fields.scopes = request.scopes;
    fields.resource = request.resource ?? null;
    fields.consumer_org = request.consumerOrg ?? null;
    fields.systemuser_org = request.systemuserOrg ?? null;
    fields.exchange = request.exchange ?? null;
    Object.assign(fields, altinnFields(request));
  }

  /** The client the request is served by, once settled. */
  client(name: string): void {
    this.fields.client = name;
  }

  /** The pseudonyms of the request's pid and of the person who gave its consent, when there are such. */
  pseudonyms(pid: string | null, consentFrom: string | null | undefined): void {
    this.fields.pid_pseudonym = pid;
    if (consentFrom !== undefined) this.fields.consent_from_pseudonym = consentFrom;
  }

  /** A remembered refusal answers the request: no grant is signed. */
  refused(): void {
    this.fields.cache = "refused";
  }

  /** The record of the Maskinporten token behind an exchange: the same request, no exchange. */
  withoutExchange(): TokenRecord {
    return new TokenRecord({ ...this.fields, exchange: null }, this.principal, this.sink, this.started);
  }

  /** A background refresh set off by this request: a record of its own, timed from now. */
  refresh(): TokenRecord {
    const fields: AuditRecord = { ...this.fields, event: "token_refreshed", cache: "refresh" };
    return new TokenRecord(fields, this.principal, this.sink, this.sink.monotonic());
  }

  /** Writes `token_issued`; the attempts only on the miss that made them (a hit or a waiter signed nothing). */
  issued(result: CacheResult<Minted>, trace: RequestTrace): void {
    const miss = result.outcome === "miss";
    const fields = this.fields;
    fields.event = "token_issued";
    fields.cache = result.outcome;
    if (miss) Object.assign(fields, traceFields(trace));
    fields.token_fingerprint = result.value.fingerprint;
    fields.expires_in = result.remainingSeconds;
    fields.latency_ms = this.latency();
    this.write(fields, miss ? trace : undefined);
  }

  /** Writes the refresh's record (see `refresh`): the token it got. */
  refreshed(minted: Minted, trace: RequestTrace): void {
    this.write(
      {
        ...this.fields,
        ...traceFields(trace),
        token_fingerprint: minted.fingerprint,
        expires_in: minted.token.expires_in,
        latency_ms: this.latency(),
      },
      trace,
    );
  }

  /**
   * Writes the failure with its code, reason and the attempts made (whose fault it was is the event: a refresh
   * stays `token_refreshed`); returns the problem to throw.
   */
  failed(problem: Problem, trace: RequestTrace | undefined): Problem {
    const event = this.fields.event === "token_refreshed" ? "token_refreshed" : FAILURE_EVENT[problem.code];
    this.write(
      {
        ...this.fields,
        event,
        ...traceFields(trace),
        ...upstreamOf(problem),
        latency_ms: this.latency(),
        code: problem.code,
        reason: problem.auditReason,
      },
      trace,
    );
    return problem;
  }

  /** Writes the failure of a request no broker could answer (its cold start failed), and its error metric. */
  startFailed(problem: Problem): void {
    this.sink.audit.startFailed({
      ...this.fields,
      latency_ms: this.latency(),
      code: problem.code,
      reason: problem.auditReason,
    });
  }

  private latency(): number {
    return Math.round(this.sink.monotonic() - this.started);
  }

  private write(fields: AuditRecord, trace: RequestTrace | undefined): void {
    this.sink.audit.record(fields, trace?.attempts ?? [], trace?.exchangeAttempts ?? []);
  }
}

/** The attempts' facts as audit fields: the last grant, the key, Maskinporten's and Altinn's last status. */
function traceFields(trace: RequestTrace | undefined): Partial<AuditRecord> {
  return { ...attemptFields(trace?.attempts ?? []), ...exchangeFields(trace?.exchangeAttempts ?? []) };
}
