// The caller's side of POST /token: SigV4-signed with the service's own AWS credentials, cached, coalesced, retried.
import { setTimeout as delay } from "node:timers/promises";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import {
  backoffMs,
  DEFAULT_MIN_TTL_SECONDS,
  parseRetryAfter,
  cacheKey as requestKey,
  sortedSet,
} from "../contract/index.ts";
import { TokenBrokerError } from "./errors.ts";
import {
  type AwsCredentials,
  type AwsCredentialsProvider,
  credentialSource,
  signingRegion,
  tokenUrl,
} from "./options.ts";
import { readError, readToken, type TokenResponse } from "./response.ts";
import { neverConnected, RETRYABLE_STATUS } from "./retry.ts";

export type { AwsCredentials, AwsCredentialsProvider };

export interface TokenClientOptions {
  /** The broker's base URL, e.g. `https://<api-id>.execute-api.eu-north-1.amazonaws.com/prod`. */
  endpoint: string;
  /** The region the API lives in; part of the SigV4 scope. Default: AWS_REGION. */
  region?: string | undefined;
  /** Defaults to the standard AWS credential chain (environment, profile, SSO, web identity, ECS, IMDS). */
  credentials?: AwsCredentials | AwsCredentialsProvider | undefined;
  fetch?: typeof fetch | undefined;
  /** Monotonic clock in milliseconds for the cache. */
  now?: (() => number) | undefined;
  sleep?: ((ms: number) => Promise<unknown>) | undefined;
  /** In [0, 1), for backoff jitter. */
  random?: (() => number) | undefined;
  /**
   * Retries after the first attempt, only where the broker signed no grant: a 429 (its grant budget or API
   * Gateway's throttling) and a connection that never opened. Default 2. A 503 is never retried: the broker has
   * retried Maskinporten (and KMS) itself, so one getToken signs at most the broker's three grants.
   */
  maxRetries?: number | undefined;
  /** A Retry-After longer than this is not waited for: the error is returned instead. Default 10 s. */
  maxRetryDelayMs?: number | undefined;
  /** Distinct requests kept in the cache; default 100. */
  maxCacheEntries?: number | undefined;
}

export interface GetTokenRequest {
  /** One or more Maskinporten scopes separated by single spaces. */
  scope: string;
  resource?: string | string[] | undefined;
  consumer_org?: string | undefined;
  systemuser_org?: string | undefined;
  /** The system user's externalRef (only with systemuser_org): needed when the customer has several system users for the system, or created it with one. */
  systemuser_external_ref?: string | undefined;
  /** An Altinn consent: the consent request's UUID and who gave it (a pid or an organisation number). A pid is personal data: the client never logs it. */
  consent?: { id: string; from: string } | undefined;
  /** The iss_onbehalfof value registered on the broker's Maskinporten client. */
  onbehalfof?: string | undefined;
  /** "altinn": the broker exchanges the Maskinporten token for an Altinn token. */
  exchange?: "altinn" | undefined;
  /** National identity or D-number the token is restricted to. Personal data: the client never logs it. */
  pid?: string | undefined;
  /** Seconds the returned token must still be valid; default 30, as on the broker. */
  min_ttl?: number | undefined;
  /** The broker's Maskinporten client to use, by its configured name; required when the broker has several. */
  client?: string | undefined;
}

export interface TokenClient {
  getToken(request: GetTokenRequest): Promise<TokenResponse>;
}

interface CachedToken {
  token: TokenResponse;
  /** Monotonic time at which the token expires. */
  expiresAt: number;
}

/** Equal requests share a token: the broker's own cache key over the same fields. */
function cacheKey(request: GetTokenRequest): string {
  return requestKey({
    scopes: sortedSet(request.scope.split(" ").filter((s) => s !== "")),
    resource: request.resource === undefined ? undefined : sortedSet([request.resource].flat()),
    consumerOrg: request.consumer_org,
    systemuserOrg: request.systemuser_org,
    systemuserExternalRef: request.systemuser_external_ref,
    pid: request.pid,
    consent: request.consent,
    onbehalfof: request.onbehalfof,
    exchange: request.exchange,
    client: request.client,
  });
}

/** Only the fields the broker knows: it rejects unknown ones. */
function requestBody(request: GetTokenRequest, minTtl: number): string {
  const { scope, resource, consumer_org, systemuser_org, systemuser_external_ref, consent, onbehalfof } =
    request;
  const { exchange, pid, client } = request;
  return JSON.stringify({
    scope,
    resource,
    consumer_org,
    systemuser_org,
    systemuser_external_ref,
    consent: consent === undefined ? undefined : { id: consent.id, from: consent.from },
    onbehalfof,
    exchange,
    pid,
    min_ttl: minTtl,
    client,
  });
}

export function createTokenClient(options: TokenClientOptions): TokenClient {
  const url = tokenUrl(options.endpoint);
  const signer = new SignatureV4({
    service: "execute-api",
    region: signingRegion(options.region, process.env),
    credentials: credentialSource(options.credentials),
    sha256: Sha256,
  });
  const send = options.fetch ?? fetch;
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const random = options.random ?? Math.random;
  const maxRetries = options.maxRetries ?? 2;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 10_000;
  const maxCacheEntries = options.maxCacheEntries ?? 100;
  const cache = new Map<string, CachedToken>();
  const inFlight = new Map<string, Promise<TokenResponse>>();

  async function post(body: string): Promise<Response> {
    const signed = await signer.sign({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === "" ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: url.host, "content-type": "application/json" },
      body,
    });
    // fetch sets Host from the URL itself, to the value signed above.
    const { host: _, ...headers } = signed.headers;
    return send(url, { method: "POST", headers, body });
  }

  /** One request to the broker, retried on a 429 (after Retry-After when given) and a connection never opened. */
  async function fetchToken(key: string, body: string): Promise<TokenResponse> {
    for (let retry = 1; ; retry++) {
      let response: Response;
      let text: string;
      try {
        response = await post(body);
        text = await response.text();
      } catch (error) {
        if (error instanceof TokenBrokerError) throw error;
        if (retry > maxRetries || !neverConnected(error)) {
          throw new TokenBrokerError(
            { code: "network_error", status: 0, detail: `The broker at ${url.origin} could not be reached` },
            { cause: error },
          );
        }
        await sleep(backoffMs(retry, random()));
        continue;
      }
      if (response.ok) {
        const token = readToken(response.status, text);
        if (token instanceof TokenBrokerError) throw token;
        cache.delete(key);
        cache.set(key, { token, expiresAt: now() + token.expires_in * 1000 });
        const oldest = cache.keys().next().value;
        if (cache.size > maxCacheEntries && oldest !== undefined) cache.delete(oldest);
        return token;
      }
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), Date.now());
      const error = readError(
        response.status,
        text,
        retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
      );
      const wait = retryAfterMs ?? backoffMs(retry, random());
      if (!RETRYABLE_STATUS.has(response.status) || retry > maxRetries || wait > maxRetryDelayMs) throw error;
      await sleep(wait);
    }
  }

  return {
    async getToken(request) {
      const minTtl = request.min_ttl ?? DEFAULT_MIN_TTL_SECONDS;
      const key = cacheKey(request);
      const cached = cache.get(key);
      if (cached !== undefined) {
        const remaining = Math.floor((cached.expiresAt - now()) / 1000);
        if (remaining >= minTtl) return { ...cached.token, expires_in: remaining };
      }
      // Coalesce only identical calls: a waiter with a larger min_ttl must not get a shorter-lived token.
      const flightKey = `${key}|${minTtl}`;
      let flight = inFlight.get(flightKey);
      if (flight === undefined) {
        flight = fetchToken(key, requestBody(request, minTtl)).finally(() => inFlight.delete(flightKey));
        inFlight.set(flightKey, flight);
      }
      return { ...(await flight) };
    },
  };
}
