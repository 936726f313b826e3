// The one use case: authorize (policy) -> refusal memory -> cache (single flight) -> grant budget -> sign and
// exchange (TokenSource) -> audit.
import { AltinnExchange, type ExchangeAttempt, type TokenExchange } from "../altinn/exchange.ts";
import {
  type AuditRecord,
  type AuditSinks,
  AuditTrail,
  altinnFields,
  attemptFields,
  exchangeFields,
  FAILURE_EVENT,
  tokenFingerprint,
  upstreamOf,
} from "../audit/index.ts";
import {
  type CacheOutcome,
  type Expiring,
  LifetimeTooShort,
  type LoadTrigger,
  RefusalMemory,
  TokenCache,
} from "../cache/index.ts";
import { type Config, ConfigError } from "../config/index.ts";
import { cacheKey, type TokenAnswerBody, type TokenResponse } from "../contract/index.ts";
import type { AttemptRecord, TokenSource, UpstreamDeps } from "../maskinporten/types.ts";
import {
  administrationGrants,
  decide,
  loadPolicy,
  normalisePrincipal,
  type Policy,
  type Principal,
} from "../policy/index.ts";
import {
  AccessDenied,
  InvalidRequest,
  maskDigitRuns,
  type Problem,
  RateLimited,
  shownArn,
  toProblem,
  UpstreamRejected,
} from "../problem/index.ts";
import { loadPidPseudonymizer, type PidPseudonymizer } from "../pseudonym/pseudonym-key.ts";
import { isPersonConsent, type RawTokenBody, repeatingParser } from "../request/index.ts";
import type { PublicJwk, Signer, SignerDeps } from "../signer/index.ts";
import { type Alarm, Deadline, timerAlarm } from "../upstream/deadline.ts";
import { BrokerClients, type ClientRequest } from "./clients.ts";
import { GrantBudget } from "./grant-budget.ts";
import { type HealthReport, healthOf } from "./health.ts";
import { PidPseudonyms } from "./pid-pseudonyms.ts";

/**
 * The Maskinporten token an exchange starts from must stay valid this long: Altinn checks its lifetime when it
 * receives it, a moment after we send it.
 */
export const EXCHANGE_SOURCE_MIN_TTL = 10;

/** Who called, as API Gateway's aws_iam authorizer reported it. */
export interface CallerContext {
  userArn?: string | null;
  accountId?: string | null;
  sourceIp?: string | null;
  vpceId?: string | null;
}

export interface TokenCall {
  caller: CallerContext;
  body: RawTokenBody;
  requestId: string;
  /** Lambda's remaining time (context.getRemainingTimeInMillis()): the request's deadline is this less a margin. */
  remainingMs: number;
}

export interface TokenAnswer {
  body: TokenAnswerBody;
  cache: CacheOutcome;
}

export interface Broker {
  /** Answers a POST /token or throws a Problem; writes exactly one audit record either way. */
  token(call: TokenCall): Promise<TokenAnswer>;
  jwks(): Promise<{ keys: PublicJwk[] }>;
  health(): HealthReport;
  readonly audit: AuditTrail;
}

export interface BrokerDeps {
  /** Every client's signer; `signers` replaces the signer of the clients it names. */
  signer?: Signer;
  signers?: Readonly<Record<string, Signer>>;
  /** Replaces every client's Maskinporten client (and then `upstream` is unused). */
  tokenSource?: TokenSource;
  /** Replaces the Altinn exchange client. */
  exchange?: TokenExchange;
  /** Replaces the pid pseudonym key named by PID_PSEUDONYM_KEY. */
  pseudonymizer?: PidPseudonymizer;
  policy?: Policy;
  /** fetch, wall clock, jti and retry timing for the Maskinporten client. */
  upstream?: Omit<UpstreamDeps, "monotonic" | "onClockSkew">;
  /** Monotonic clock (ms) shared by the cache, the refusal memory, the grant budget and the upstream client. */
  monotonic?: () => number;
  /** What tells each request's deadline that it passed, on the `monotonic` clock. */
  alarm?: Alarm;
  sinks?: AuditSinks;
  /** SDK clients and clock for the signers the broker creates (their warnings go to the audit trail's logger). */
  signerDeps?: Omit<SignerDeps, "log">;
}

/** A token as cached: Maskinporten's answer (or Altinn's, for an exchange) and the attempts that produced it. */
interface Minted {
  token: TokenResponse;
  /** Computed once per token, not on every hit that serves it. */
  fingerprint: string;
  attempts: readonly AttemptRecord[];
  /** The calls to Altinn that produced an exchanged token. */
  exchangeAttempts: readonly ExchangeAttempt[];
}

/** The key of the Maskinporten request behind an exchange: the same request without the exchange. */
function maskinportenKey(request: ClientRequest): string {
  const { exchange: _exchange, ...plain } = request;
  return cacheKey(plain);
}

/**
 * What every /token audit record starts from: who called (principal normalised), before the body is read.
 * A `token_failed` with no request fields until the request says more.
 */
export function callerRecord(call: Pick<TokenCall, "caller" | "requestId">): {
  principal: Principal | null;
  base: AuditRecord;
} {
  const userArn = call.caller.userArn ?? null;
  const principal = userArn === null || userArn === "" ? null : normalisePrincipal(userArn);
  const base: AuditRecord = {
    event: "token_failed",
    // The caller chose its session name (and a federated user's name): logged with digit runs masked.
    principal: principal === null ? null : shownArn(principal.arn),
    session:
      principal?.kind !== "arn" || principal.session === undefined ? null : maskDigitRuns(principal.session),
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
  return { principal, base };
}

/** Builds everything from Config at cold start: policy (validated), every client's signer and upstream client, cache, audit. */
export async function createBroker(config: Config, deps: BrokerDeps = {}): Promise<Broker> {
  const names = config.clients.map((client) => client.name);
  const monotonic = deps.monotonic ?? (() => performance.now());
  const alarm = deps.alarm ?? timerAlarm;
  const audit = new AuditTrail(deps.sinks);
  const parseRequest = repeatingParser({ environment: config.maskinporten.env });
  const [policy, clients, pseudonymizer] = await Promise.all([
    deps.policy ?? loadPolicy(config.policy, names),
    BrokerClients.load(config, {
      ...(deps.signer === undefined ? {} : { signer: deps.signer }),
      ...(deps.signers === undefined ? {} : { signers: deps.signers }),
      ...(deps.tokenSource === undefined ? {} : { tokenSource: deps.tokenSource }),
      signerDeps: {
        ...deps.signerDeps,
        log: ({ event, ...failure }) => audit.warn(event, failure),
      },
      upstream: { ...deps.upstream, monotonic, onClockSkew: (skewMs) => audit.clockSkew(skewMs) },
    }),
    deps.pseudonymizer ??
      (config.pidPseudonymKey === undefined ? undefined : loadPidPseudonymizer(config.pidPseudonymKey)),
  ]);
  // Once per cold start: a security reviewer should see every rule that hands out the client's own administration.
  const administration = administrationGrants(policy);
  if (administration.length > 0) audit.warn("policy_grants_administration_scopes", { rules: administration });
  // A consent may be a person's: its `from` is a pid, audited as its pseudonym too.
  const pidRule = policy.rules.findIndex((rule) => rule.pid || rule.consent);
  if (pidRule >= 0 && pseudonymizer === undefined) {
    const allows = policy.rules[pidRule]?.pid === true ? "pid" : "consent";
    throw new ConfigError(
      `PID_PSEUDONYM_KEY: required because policy rules[${pidRule}] allows ${allows} (audit records carry the pseudonym of a pid)`,
    );
  }
  const exchange =
    deps.exchange ??
    new AltinnExchange(
      { url: config.altinn.exchangeUrl, timeoutMs: config.upstreamTimeoutMs },
      { ...deps.upstream, monotonic },
    );
  const pseudonyms = new PidPseudonyms(pseudonymizer, { maxEntries: config.cache.maxEntries, monotonic });
  // Maskinporten tokens and exchanged tokens alike: the cache key tells them apart.
  const cache = new TokenCache<Minted>({
    maxEntries: config.cache.maxEntries,
    refreshAheadSeconds: config.cache.refreshAheadSeconds,
    monotonic,
    // Already audited as token_refreshed by the refresh itself; the served token stays valid.
    onRefreshError: () => undefined,
  });
  // Maskinporten's and Altinn's refusals (4xx), each under the key of the request it refused.
  const refusals = new RefusalMemory<UpstreamRejected>({
    seconds: config.cache.refusalSeconds,
    maxEntries: config.cache.maxEntries,
    monotonic,
  });
  const budget = new GrantBudget({ perMinute: config.grantsPerPrincipalPerMinute, monotonic });
  /** Whose budget each refusal is about: a caller who only waited on that load tries again with its own. */
  const budgetOf = new WeakMap<RateLimited, string>();

  /**
   * Spends one grant of the principal's budget for the request's client (each client counts on its own), or
   * refuses with 429 and when to try again.
   */
  function spend(who: string, client: string): void {
    const retryAfterSeconds = budget.spend(`${client} ${who}`);
    if (retryAfterSeconds === undefined) return;
    const refusal = new RateLimited(
      `${shownArn(who)} has spent its grant budget for client ${client} on this instance (${config.grantsPerPrincipalPerMinute} grants a minute); cached tokens are still served`,
      retryAfterSeconds,
    );
    budgetOf.set(refusal, who);
    throw refusal;
  }

  /**
   * Signs and exchanges one grant with the request's client (with retries), collecting its attempts for the audit
   * record; for an exchange, then trades that Maskinporten token (cached under its own key) for Altinn's.
   */
  async function mint(
    who: string,
    request: ClientRequest,
    attempts: AttemptRecord[],
    exchangeAttempts: ExchangeAttempt[],
    record: AuditRecord,
    deadline: Deadline,
  ): Promise<Expiring<Minted>> {
    if (request.exchange !== undefined) {
      return exchanged(who, request, attempts, exchangeAttempts, record, deadline);
    }
    // One grant of the budget of the principal this load is for, however many attempts its retries take.
    spend(who, request.client);
    const result = await clients.of(request).source.requestToken(request, attempts, deadline);
    return {
      value: {
        token: result.token,
        fingerprint: tokenFingerprint(result.token.access_token),
        attempts,
        exchangeAttempts,
      },
      expiresAt: result.receivedAt + result.token.expires_in * 1000,
      since: result.receivedAt,
    };
  }

  /** An Altinn token: lives until its own exp, whatever the Maskinporten token it came from had left. */
  async function exchanged(
    who: string,
    request: ClientRequest,
    attempts: AttemptRecord[],
    exchangeAttempts: ExchangeAttempt[],
    record: AuditRecord,
    deadline: Deadline,
  ): Promise<Expiring<Minted>> {
    const { exchange: _exchange, ...plain } = request;
    const plainRecord: AuditRecord = { ...record, exchange: null };
    const from = await cache.get(cacheKey(plain), EXCHANGE_SOURCE_MIN_TTL, (trigger: LoadTrigger) =>
      trigger === "miss"
        ? mint(who, plain, attempts, [], plainRecord, deadline)
        : refresh(who, plain, plainRecord, deadline),
    );
    // Every call to Altinn, retries included, spends a grant of the budget: it bounds what a principal costs Altinn.
    const altinn = await exchange.exchange(
      from.value.token.access_token,
      exchangeAttempts,
      () => spend(who, request.client),
      deadline,
    );
    return {
      value: {
        token: {
          access_token: altinn.accessToken,
          token_type: "Bearer",
          expires_in: Math.max(0, Math.floor((altinn.expiresAt - monotonic()) / 1000)),
          scope: from.value.token.scope,
        },
        fingerprint: tokenFingerprint(altinn.accessToken),
        attempts,
        exchangeAttempts,
      },
      expiresAt: altinn.expiresAt,
    };
  }

  async function token(call: TokenCall): Promise<TokenAnswer> {
    const started = monotonic();
    // Pseudonym, sign and every upstream call give up by then, so this record is written before Lambda's timeout.
    const deadline = Deadline.fromRemaining(call.remainingMs, monotonic, alarm);
    const { principal, base } = callerRecord(call);
    const attempts: AttemptRecord[] = [];
    const exchangeAttempts: ExchangeAttempt[] = [];
    let record = base;
    try {
      if (principal === null) throw new AccessDenied("the request carries no IAM identity");
      const { request: asked, minTtl } = parseRequest(call.body);
      record = {
        ...base,
        scopes: asked.scopes,
        resource: asked.resource ?? null,
        consumer_org: asked.consumerOrg ?? null,
        systemuser_org: asked.systemuserOrg ?? null,
        exchange: asked.exchange ?? null,
        ...altinnFields(asked),
      };
      const request = clients.resolve(asked);
      record = { ...record, client: request.client };
      const decision = decide(policy, principal, request);
      // A pseudonym costs a KMS call: only for a request a rule allows, or one denied for its pid or consent alone.
      if (decision.allowed || decision.personalOnly) {
        record.pid_pseudonym = await pseudonyms.of(asked.pid, deadline);
        if (asked.consent !== undefined && isPersonConsent(asked.consent)) {
          record.consent_from_pseudonym = await pseudonyms.of(asked.consent.from, deadline);
        }
      }
      if (!decision.allowed) throw new AccessDenied(decision.reason);
      const key = cacheKey(request);
      // Maskinporten's refusal of the request behind an exchange is remembered under that request's key, Altinn's
      // under the exchange's own.
      const refusalKey = request.exchange === undefined ? key : maskinportenKey(request);
      const refusal = refusals.recall(refusalKey) ?? (refusalKey === key ? undefined : refusals.recall(key));
      if (refusal !== undefined) {
        record = { ...record, cache: "refused" };
        throw refusal;
      }
      const refreshRecord = record;
      const who = principal.arn;
      const load = (trigger: LoadTrigger) =>
        trigger === "miss"
          ? mint(who, request, attempts, exchangeAttempts, refreshRecord, deadline)
          : refresh(who, request, refreshRecord, deadline);
      const result = await cache
        .get(key, minTtl, load)
        .catch((error: unknown) => {
          // Another principal's spent budget ended the load this caller waited on: load again, on its own budget.
          if (!(error instanceof RateLimited) || budgetOf.get(error) === who) throw error;
          return cache.get(key, minTtl, load);
        })
        .catch((error: unknown) => {
          if (error instanceof UpstreamRejected) {
            refusals.remember(error.upstream === "maskinporten" ? refusalKey : key, error);
          }
          if (!(error instanceof LifetimeTooShort)) throw error;
          const issuer = request.exchange === undefined ? "Maskinporten" : "Altinn";
          throw new InvalidRequest(
            `min_ttl: ${issuer} issues tokens for this request valid for ${error.lifetimeSeconds} s; min_ttl may be at most half of that (${Math.floor(error.lifetimeSeconds / 2)} s), so that one token serves many requests`,
          );
        });
      const { token: minted } = result.value;
      const miss = result.outcome === "miss";
      const signedHere = miss
        ? { ...attemptFields(result.value.attempts), ...exchangeFields(result.value.exchangeAttempts) }
        : {};
      audit.record(
        {
          ...record,
          event: "token_issued",
          cache: result.outcome,
          ...signedHere,
          token_fingerprint: result.value.fingerprint,
          expires_in: result.remainingSeconds,
          latency_ms: Math.round(monotonic() - started),
        },
        miss ? result.value.attempts : [],
        miss ? result.value.exchangeAttempts : [],
      );
      const body: TokenAnswer["body"] = {
        access_token: minted.access_token,
        token_type: minted.token_type,
        expires_in: result.remainingSeconds,
        scope: minted.scope,
      };
      if (request.exchange !== undefined) body.exchange = request.exchange;
      return { body, cache: result.outcome };
    } catch (error) {
      const problem = toProblem(error);
      throw failed(
        { ...record, event: FAILURE_EVENT[problem.code] },
        attempts,
        exchangeAttempts,
        started,
        problem,
      );
    }
  }

  /**
   * A background refresh: signs a grant nobody waits for, so it gets its own audit record; the grant is spent
   * from the budget of the caller whose hit set it off (past the budget the cached token is kept, not renewed),
   * and it runs under that caller's deadline: the invocation it runs in.
   */
  async function refresh(
    who: string,
    request: ClientRequest,
    trigger: AuditRecord,
    deadline: Deadline,
  ): Promise<Expiring<Minted>> {
    const started = monotonic();
    const attempts: AttemptRecord[] = [];
    const exchangeAttempts: ExchangeAttempt[] = [];
    const record: AuditRecord = { ...trigger, event: "token_refreshed", cache: "refresh" };
    try {
      const fresh = await mint(who, request, attempts, exchangeAttempts, trigger, deadline);
      audit.record(
        {
          ...record,
          ...attemptFields(attempts),
          ...exchangeFields(exchangeAttempts),
          token_fingerprint: fresh.value.fingerprint,
          expires_in: fresh.value.token.expires_in,
          latency_ms: Math.round(monotonic() - started),
        },
        attempts,
        exchangeAttempts,
      );
      return fresh;
    } catch (error) {
      throw failed(record, attempts, exchangeAttempts, started, toProblem(error));
    }
  }

  /** Audits a failure with its code, reason and the attempts made; returns the problem to throw. */
  function failed(
    record: AuditRecord,
    attempts: readonly AttemptRecord[],
    exchangeAttempts: readonly ExchangeAttempt[],
    started: number,
    problem: Problem,
  ): Problem {
    audit.record(
      {
        ...record,
        ...attemptFields(attempts),
        ...exchangeFields(exchangeAttempts),
        ...upstreamOf(problem),
        latency_ms: Math.round(monotonic() - started),
        code: problem.code,
        reason: problem.auditReason,
      },
      attempts,
      exchangeAttempts,
    );
    return problem;
  }

  return {
    token,
    audit,
    // Every client's key, with the same members in the same order as `npm run jwks` prints for registration.
    jwks: () => clients.jwks(),
    health: healthOf,
  };
}
