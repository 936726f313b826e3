// The one use case, POST /token, as its pipeline of named steps:
//   token    authorize (parse, settle the client, policy, pid pseudonym) -> refusal memory -> cache (single flight)
//   mint     on a miss: the grant budget, then sign and exchange with Maskinporten (TokenSource, with retries)
//   exchange for exchange "altinn": the Maskinporten token (cached on its own) traded for Altinn's
//   refresh  near a cached token's edge, in the background: mint again, audited on its own
// every step under the request's one deadline, writing its attempts into the request's trace, read by its record.

import { tokenFingerprint } from "../audit/index.ts";
import type { CacheResult, Expiring } from "../cache/index.ts";
import { LifetimeTooShort, type LoadTrigger } from "../cache/index.ts";
import { cacheKey } from "../contract/index.ts";
import { decide } from "../policy/index.ts";
import { AccessDenied, InvalidRequest, toProblem, UpstreamRejected } from "../problem/index.ts";
import { isPersonConsent } from "../request/index.ts";
import { Deadline } from "../upstream/deadline.ts";
import type { Broker, TokenAnswer, TokenCall } from "./call.ts";
import type { ClientRequest } from "./clients.ts";
import type { BrokerParts } from "./parts.ts";
import { type Minted, TokenRecord } from "./token-record.ts";
import { RequestTrace } from "./trace.ts";

/**
 * The Maskinporten token an exchange starts from must stay valid this long: Altinn checks its lifetime when it
 * receives it, a moment after we send it.
 */
export const EXCHANGE_SOURCE_MIN_TTL = 10;

/** The request without its exchange: the Maskinporten request an exchange starts from. */
function withoutExchange(request: ClientRequest): ClientRequest {
  const { exchange: _exchange, ...plain } = request;
  return plain;
}

/** An authorized request: who asked, for what, how long the token must live. */
interface Authorized {
  who: string;
  request: ClientRequest;
  minTtl: number;
}

export class TokenPipeline implements Broker {
  constructor(private readonly parts: BrokerParts) {}

  /** Every client's key, with the same members in the same order as `npm run jwks` prints for registration. */
  jwks() {
    return this.parts.clients.jwks();
  }

  async token(call: TokenCall): Promise<TokenAnswer> {
    const { monotonic, alarm } = this.parts;
    const record = TokenRecord.of(call, this.parts);
    // Pseudonym, sign and every upstream call give up by then, so this record is written before Lambda's timeout.
    const trace = new RequestTrace(Deadline.fromRemaining(call.remainingMs, monotonic, alarm));
    try {
      const authorized = await this.authorize(call, record, trace);
      const { request } = authorized;
      let result: CacheResult<Minted>;
      try {
        result = await this.cached(authorized, record, trace);
      } catch (error) {
        if (!(error instanceof LifetimeTooShort)) throw error;
        const issuer = request.exchange === undefined ? "Maskinporten" : "Altinn";
        throw new InvalidRequest(
          `min_ttl: ${issuer} issues tokens for this request valid for ${error.lifetimeSeconds} s; min_ttl may be at most half of that (${Math.floor(error.lifetimeSeconds / 2)} s), so that one token serves many requests`,
        );
      }
      record.issued(result, trace);
      const { token } = result.value;
      const body: TokenAnswer["body"] = {
        access_token: token.access_token,
        token_type: token.token_type,
        expires_in: result.remainingSeconds,
        scope: token.scope,
      };
      if (request.exchange !== undefined) body.exchange = request.exchange;
      return { body, cache: result.outcome };
    } catch (error) {
      throw record.failed(toProblem(error), trace);
    }
  }

  /**
   * Parses the body, settles the client and asks the policy; the pid's pseudonym (a KMS call) only for a request a
   * rule allows, or one denied for its pid or consent alone.
   */
  private async authorize(call: TokenCall, record: TokenRecord, trace: RequestTrace): Promise<Authorized> {
    const { principal } = record;
    if (principal === null) throw new AccessDenied("the request carries no IAM identity");
    const { request: asked, minTtl } = this.parts.parseRequest(call.body);
    record.asked(asked);
    const request = this.parts.clients.resolve(asked);
    record.client(request.client);
    const decision = decide(this.parts.policy, principal, request);
    const { pid, consent } = asked;
    const consentFrom = consent !== undefined && isPersonConsent(consent) ? consent.from : undefined;
    if ((decision.allowed || decision.personalOnly) && (pid !== undefined || consentFrom !== undefined)) {
      const { pseudonyms } = this.parts;
      record.pseudonyms(
        await pseudonyms.of(pid, trace.deadline),
        consentFrom === undefined ? undefined : await pseudonyms.of(consentFrom, trace.deadline),
      );
    }
    if (!decision.allowed) throw new AccessDenied(decision.reason);
    return { who: principal.arn, request, minTtl };
  }

  /**
   * The token from the cache, loaded on a miss or refreshed near its edge, unless a refusal is remembered. A 4xx
   * refusal is remembered: Maskinporten's under the key of the request it refused (for an exchange, the request
   * without it), Altinn's under the exchange's own.
   */
  private async cached(
    asked: Authorized,
    record: TokenRecord,
    trace: RequestTrace,
  ): Promise<CacheResult<Minted>> {
    const { request } = asked;
    const key = cacheKey(request);
    const refusalKey = request.exchange === undefined ? key : cacheKey(withoutExchange(request));
    const { refusals } = this.parts;
    const refusal = refusals.recall(refusalKey) ?? (refusalKey === key ? undefined : refusals.recall(key));
    if (refusal !== undefined) {
      record.refused();
      throw refusal;
    }
    try {
      return await this.load(asked, key, record, trace);
    } catch (error) {
      if (error instanceof UpstreamRejected) {
        refusals.remember(error.upstream === "maskinporten" ? refusalKey : key, error);
      }
      throw error;
    }
  }

  /**
   * The cache's answer for `key`: a miss mints with this request's trace, a refresh on its own. When another
   * principal's spent budget ended the load this caller waited on, it loads again, on its own budget.
   */
  private async load(
    asked: Authorized,
    key: string,
    record: TokenRecord,
    trace: RequestTrace,
  ): Promise<CacheResult<Minted>> {
    const { cache, budgets } = this.parts;
    const load = (trigger: LoadTrigger) =>
      trigger === "miss" ? this.mint(asked, record, trace) : this.refresh(asked, record, trace.deadline);
    try {
      return await cache.get(key, asked.minTtl, load);
    } catch (error) {
      if (!budgets.isOthers(error, asked.who)) throw error;
      return cache.get(key, asked.minTtl, load);
    }
  }

  /**
   * Signs and exchanges one grant with the request's client (with retries), spending one grant of the principal's
   * budget however many attempts its retries take; for an exchange, the Altinn token instead.
   */
  private async mint(asked: Authorized, record: TokenRecord, trace: RequestTrace): Promise<Expiring<Minted>> {
    const { request, who } = asked;
    if (request.exchange !== undefined) return this.exchange(asked, record, trace);
    this.parts.budgets.spend(who, request.client);
    const result = await this.parts.clients.of(request).source.requestToken(request, trace);
    return {
      value: { token: result.token, fingerprint: tokenFingerprint(result.token.access_token) },
      expiresAt: result.receivedAt + result.token.expires_in * 1000,
      since: result.receivedAt,
    };
  }

  /**
   * An Altinn token for the Maskinporten token of the same request without the exchange (cached under its own key);
   * it lives until its own exp, whatever the Maskinporten token it came from had left. Every call to Altinn, retries
   * included, spends a grant of the budget: it bounds what a principal costs Altinn.
   */
  private async exchange(
    asked: Authorized,
    record: TokenRecord,
    trace: RequestTrace,
  ): Promise<Expiring<Minted>> {
    const { request, who } = asked;
    const plain: Authorized = { who, request: withoutExchange(request), minTtl: EXCHANGE_SOURCE_MIN_TTL };
    const from = await this.load(plain, cacheKey(plain.request), record.withoutExchange(), trace);
    const altinn = await this.parts.exchange.exchange(from.value.token.access_token, trace, () =>
      this.parts.budgets.spend(who, request.client),
    );
    return {
      value: {
        token: {
          access_token: altinn.accessToken,
          token_type: "Bearer",
          expires_in: Math.max(0, Math.floor((altinn.expiresAt - this.parts.monotonic()) / 1000)),
          scope: from.value.token.scope,
        },
        fingerprint: tokenFingerprint(altinn.accessToken),
      },
      expiresAt: altinn.expiresAt,
    };
  }

  /**
   * A background refresh: signs a grant nobody waits for, so it gets its own trace and audit record; the grant is
   * spent from the budget of the caller whose hit set it off (past the budget the cached token is kept, not
   * renewed), and it runs under that caller's deadline: the invocation it runs in.
   */
  private async refresh(
    asked: Authorized,
    trigger: TokenRecord,
    deadline: Deadline,
  ): Promise<Expiring<Minted>> {
    const record = trigger.refresh();
    const trace = new RequestTrace(deadline);
    try {
      const fresh = await this.mint(asked, trigger, trace);
      record.refreshed(fresh.value, trace);
      return fresh;
    } catch (error) {
      throw record.failed(toProblem(error), trace);
    }
  }
}
