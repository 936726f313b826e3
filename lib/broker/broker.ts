// The one use case: authorize (policy) -> refusal memory -> cache (single flight) -> grant budget -> sign and
// exchange (TokenSource) -> audit.
import {
  type AuditRecord,
  type AuditSinks,
  AuditTrail,
  attemptFields,
  tokenFingerprint,
} from "../audit/index.ts";
import {
  type CacheOutcome,
  type Expiring,
  LifetimeTooShort,
  type LoadTrigger,
  RefusalMemory,
  TokenCache,
} from "../cache/index.ts";
import type { Config } from "../config/index.ts";
import type { AttemptRecord, TokenResponse, TokenSource, UpstreamDeps } from "../maskinporten/types.ts";
import { decide, loadPolicy, normalisePrincipal, type Policy, type Principal } from "../policy/index.ts";
import {
  AccessDenied,
  InvalidRequest,
  type Problem,
  RateLimited,
  toProblem,
  UpstreamRejected,
} from "../problem/index.ts";
import { cacheKey, type RawTokenBody, repeatingParser } from "../request/index.ts";
import type { PublicJwk, Signer, SignerDeps } from "../signer/index.ts";
import { BrokerClients, type ClientRequest } from "./clients.ts";
import { GrantBudget } from "./grant-budget.ts";
import { type HealthReport, healthOf } from "./health.ts";

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
}

export interface TokenAnswer {
  body: { access_token: string; token_type: string; expires_in: number; scope: string };
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
  policy?: Policy;
  /** fetch, wall clock, jti and retry timing for the Maskinporten client. */
  upstream?: Omit<UpstreamDeps, "monotonic" | "onClockSkew">;
  /** Monotonic clock (ms) shared by the cache, the refusal memory, the grant budget and the upstream client. */
  monotonic?: () => number;
  sinks?: AuditSinks;
  /** SDK clients and clock for the signers the broker creates (their warnings go to the audit trail's logger). */
  signerDeps?: Omit<SignerDeps, "log">;
}

/** A token as cached: Maskinporten's answer and the attempts that produced it. */
interface Minted {
  token: TokenResponse;
  /** Computed once per token, not on every hit that serves it. */
  fingerprint: string;
  attempts: readonly AttemptRecord[];
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
    principal: principal?.arn ?? null,
    session: principal?.session ?? null,
    account: call.caller.accountId ?? null,
    source_ip: call.caller.sourceIp ?? null,
    vpce_id: call.caller.vpceId ?? null,
    client: null,
    scopes: null,
    resource: null,
    consumer_org: null,
    systemuser_org: null,
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
  const audit = new AuditTrail(deps.sinks);
  const parseRequest = repeatingParser();
  const [policy, clients] = await Promise.all([
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
  ]);
  const cache = new TokenCache<Minted>({
    maxEntries: config.cache.maxEntries,
    refreshAheadSeconds: config.cache.refreshAheadSeconds,
    monotonic,
    // Already audited as token_refreshed by the refresh itself; the served token stays valid.
    onRefreshError: () => undefined,
  });
  const refusals = new RefusalMemory<UpstreamRejected>({
    seconds: config.cache.refusalSeconds,
    maxEntries: config.cache.maxEntries,
    monotonic,
  });
  const budget = new GrantBudget({ perMinute: config.grantsPerPrincipalPerMinute, monotonic });

  /** Spends one grant of the principal's budget, or refuses with 429 and when to try again. */
  function spend(who: string): void {
    const retryAfterSeconds = budget.spend(who);
    if (retryAfterSeconds === undefined) return;
    throw new RateLimited(
      `${who} has spent its grant budget on this instance (${config.grantsPerPrincipalPerMinute} grants a minute); cached tokens are still served`,
      retryAfterSeconds,
    );
  }

  /** A miss: one grant of the caller's budget (retries included), and a Maskinporten refusal remembered. */
  async function miss(
    who: string,
    key: string,
    request: ClientRequest,
    attempts: AttemptRecord[],
  ): Promise<Expiring<Minted>> {
    spend(who);
    try {
      return await mint(request, attempts);
    } catch (error) {
      if (error instanceof UpstreamRejected) refusals.remember(key, error);
      throw error;
    }
  }

  /** Signs and exchanges one grant with the request's client (with retries), collecting its attempts for the audit record. */
  async function mint(request: ClientRequest, attempts: AttemptRecord[]): Promise<Expiring<Minted>> {
    const result = await clients.of(request).source.requestToken(request, attempts);
    return {
      value: { token: result.token, fingerprint: tokenFingerprint(result.token.access_token), attempts },
      expiresAt: result.receivedAt + result.token.expires_in * 1000,
    };
  }

  async function token(call: TokenCall): Promise<TokenAnswer> {
    const started = monotonic();
    const { principal, base } = callerRecord(call);
    const attempts: AttemptRecord[] = [];
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
      };
      const request = clients.resolve(asked);
      record = { ...record, client: request.client };
      const decision = decide(policy, principal, request);
      if (!decision.allowed) throw new AccessDenied(decision.reason);
      const key = cacheKey(request);
      const refusal = refusals.recall(key);
      if (refusal !== undefined) {
        record = { ...record, cache: "refused" };
        throw refusal;
      }
      const refreshRecord = record;
      const who = principal.arn;
      // Inline, unnamed callbacks: the hit path creates no named closures (tsx/esbuild keepNames names each one).
      const result = await cache
        .get(key, minTtl, (trigger: LoadTrigger) =>
          trigger === "miss" ? miss(who, key, request, attempts) : refresh(who, request, refreshRecord),
        )
        .catch((error: unknown) => {
          if (!(error instanceof LifetimeTooShort)) throw error;
          throw new InvalidRequest(
            `min_ttl: Maskinporten issues tokens for this request valid for ${error.remainingSeconds} s, less than min_ttl ${minTtl}`,
          );
        });
      const { token: minted } = result.value;
      const signedHere = result.outcome === "miss" ? attemptFields(result.value.attempts) : {};
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
        result.outcome === "miss" ? result.value.attempts : [],
      );
      return {
        body: {
          access_token: minted.access_token,
          token_type: minted.token_type,
          expires_in: result.remainingSeconds,
          scope: minted.scope,
        },
        cache: result.outcome,
      };
    } catch (error) {
      const problem = toProblem(error);
      const denied = problem.code === "access_denied" || problem.code === "rate_limited";
      const event = denied ? "token_denied" : "token_failed";
      throw failed({ ...record, event }, attempts, started, problem);
    }
  }

  /**
   * A background refresh: signs a grant nobody waits for, so it gets its own audit record; it spends a grant of
   * the budget of the caller whose hit set it off (past the budget the cached token is kept, not renewed).
   */
  async function refresh(
    who: string,
    request: ClientRequest,
    trigger: AuditRecord,
  ): Promise<Expiring<Minted>> {
    const started = monotonic();
    const attempts: AttemptRecord[] = [];
    const record: AuditRecord = { ...trigger, event: "token_refreshed", cache: "refresh" };
    try {
      spend(who);
      const fresh = await mint(request, attempts);
      audit.record(
        {
          ...record,
          ...attemptFields(attempts),
          token_fingerprint: fresh.value.fingerprint,
          expires_in: fresh.value.token.expires_in,
          latency_ms: Math.round(monotonic() - started),
        },
        attempts,
      );
      return fresh;
    } catch (error) {
      throw failed(record, attempts, started, toProblem(error));
    }
  }

  /** Audits a failure with its code, reason and the attempts made; returns the problem to throw. */
  function failed(
    record: AuditRecord,
    attempts: readonly AttemptRecord[],
    started: number,
    problem: Problem,
  ): Problem {
    audit.record(
      {
        ...record,
        ...attemptFields(attempts),
        latency_ms: Math.round(monotonic() - started),
        code: problem.code,
        reason: problem.detail,
      },
      attempts,
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
