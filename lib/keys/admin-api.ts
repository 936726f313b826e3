// The client of Digdir's self-service API for a Maskinporten client's registered keys: GET / POST / DELETE of its JWKS.
import * as v from "valibot";
import { parseJson, parseRetryAfter } from "../contract/index.ts";
import { ADMIN_SCOPES, type AdminScope } from "../policy/admin-scope.ts";
import { type Alarm, Deadline, timerAlarm } from "../upstream/deadline.ts";
import {
  type AttemptOutcome,
  type GiveUp,
  type RetrySchedule,
  thrownOutcome,
  type UpstreamDeps,
  type UpstreamRuntime,
  upstreamRuntime,
} from "../upstream/retry.ts";
import type { HttpResponse } from "../upstream/transport.ts";
import { isUpstreamUrl } from "../upstream/url.ts";
import { SelfServiceError } from "./errors.ts";

/** A key as registered on the client: the public JWK members, and `exp` (unix seconds) as the API answers it. */
export interface RegisteredJwk {
  kty: string;
  kid: string;
  alg?: string;
  use?: string;
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
  x5c?: string[];
  exp?: number;
}

const optionalString = v.optional(v.string());
const RegisteredJwkSchema = v.object({
  kty: v.pipe(v.string(), v.minLength(1)),
  kid: v.pipe(v.string(), v.minLength(1)),
  alg: optionalString,
  use: optionalString,
  n: optionalString,
  e: optionalString,
  crv: optionalString,
  x: optionalString,
  y: optionalString,
  x5c: v.optional(v.array(v.string())),
  exp: v.optional(v.pipe(v.number(), v.integer())),
});
const JwksAnswerSchema = v.object({ keys: v.array(RegisteredJwkSchema) });

/** The members posted back: public members only, never anything the answer added beyond them. */
export const POSTED_MEMBERS = ["kty", "alg", "use", "kid", "n", "e", "crv", "x", "y", "x5c", "exp"] as const;

/**
 * Who asks the token endpoint for an admin token (one per scope), e.g. the broker's own Maskinporten client; it
 * gives up when the call's deadline passes.
 */
export type AdminTokenSource = (scope: AdminScope, deadline?: Deadline) => Promise<string>;

/** The self-service API's injectables: the upstream ones, and the alarm its deadline and its timeouts fire on. */
export interface SelfServiceDeps extends UpstreamDeps {
  /** Node's timer by default; tests pass one driven by their own clock. */
  alarm?: Alarm | undefined;
}

/** 30 s: a call's admin token and its retries (25 s budget) fit; a hung call ends well inside the key watch's 300 s. */
export const SELF_SERVICE_DEADLINE_MS = 30_000;

export interface SelfServiceApiOptions extends Partial<Omit<RetrySchedule, "timeoutMs">> {
  /** e.g. https://api.test.samarbeid.digdir.no (https; plain http only to a loopback host). */
  baseUrl: string;
  /** Per attempt; default 10 s. */
  timeoutMs?: number | undefined;
  /** One call, its admin token and every attempt and wait together; default SELF_SERVICE_DEADLINE_MS. */
  deadlineMs?: number | undefined;
}

type Method = "GET" | "POST" | "DELETE";

const MAX_DETAIL = 300;

/** The error an attempt's transient outcome carries: once the retries end, it is what the call throws. */
const lastError: GiveUp = (last) =>
  last.cause instanceof SelfServiceError
    ? last.cause
    : new SelfServiceError("admin_unavailable", `self-service API: ${last.outcome}`);

/** What a call that threw came to, as its error message says it. */
const THROWN: Record<ReturnType<typeof thrownOutcome>, string> = {
  deadline: "no answer before the call's deadline",
  timeout: "timed out",
  oversized_body: "answer too large",
  network: "network error",
};

/**
 * Reads are retried on the shared schedule (5xx, 429, timeout, network). Writes are not: POST and DELETE replace
 * the whole set as planned on a read made just before (see set-change.ts), and a retry seconds later could
 * overwrite a change another writer made in between; a failed write is the caller's to plan again.
 */
export class SelfServiceApi {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly deadlineMs: number;
  private readonly alarm: Alarm;
  private readonly reads: UpstreamRuntime;
  private readonly writes: UpstreamRuntime;

  constructor(
    options: SelfServiceApiOptions,
    private readonly token: AdminTokenSource,
    deps: SelfServiceDeps = {},
  ) {
    if (!isUpstreamUrl(options.baseUrl)) {
      throw new TypeError("self-service API: expected an https URL (plain http only to a loopback host)");
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.deadlineMs = options.deadlineMs ?? SELF_SERVICE_DEADLINE_MS;
    this.alarm = deps.alarm ?? timerAlarm;
    const schedule = { ...options, timeoutMs: this.timeoutMs };
    this.reads = upstreamRuntime(schedule, deps, lastError);
    this.writes = upstreamRuntime({ ...schedule, maxRetries: 0 }, deps, lastError);
  }

  /** Gets (or reuses) the admin token for `scope` now, so that a call right after waits for no token. */
  async authorize(scope: AdminScope): Promise<void> {
    await this.token(scope, this.deadline());
  }

  /** The client's registered keys, with their `exp`. */
  async getJwks(clientId: string): Promise<RegisteredJwk[]> {
    return this.call("GET", clientId, ADMIN_SCOPES.read);
  }

  /** Replaces the whole set (at most 5 keys, not empty); answers the set as registered. */
  async postJwks(clientId: string, keys: readonly RegisteredJwk[]): Promise<RegisteredJwk[]> {
    return this.call("POST", clientId, ADMIN_SCOPES.write, { keys });
  }

  /** Removes every key (an empty set cannot be posted). */
  async deleteJwks(clientId: string): Promise<void> {
    await this.call("DELETE", clientId, ADMIN_SCOPES.write);
  }

  private async call(
    method: Method,
    clientId: string,
    scope: AdminScope,
    body?: unknown,
  ): Promise<RegisteredJwk[]> {
    const deadline = this.deadline();
    const token = await this.token(scope, deadline);
    const url = `${this.baseUrl}/api/v1/clients/${encodeURIComponent(clientId)}/jwks`;
    const runtime = method === "GET" ? this.reads : this.writes;
    const answer = await runtime.retry(
      () => this.attempt(runtime, deadline, method, url, token, body),
      deadline,
    );
    if (method === "DELETE") return [];
    const parsed = v.safeParse(JwksAnswerSchema, parseJson(answer.text));
    if (!parsed.success) {
      throw new SelfServiceError(
        "admin_malformed",
        `${method} ${url}: the answer is not a JWKS`,
        answer.status,
      );
    }
    return parsed.output.keys.map(postable);
  }

  /** One call: a 2xx answer, or a transient failure carrying its error; throws admin_rejected for any other answer. */
  private async attempt(
    runtime: UpstreamRuntime,
    deadline: Deadline,
    method: Method,
    url: string,
    token: string,
    body: unknown,
  ): Promise<AttemptOutcome<{ status: number; text: string }>> {
    const json = body === undefined ? undefined : JSON.stringify(body);
    let response: HttpResponse;
    let text: string;
    try {
      response = await runtime.fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          // Spread, not an undefined value: node:http throws on one, and fetch would send the text "undefined".
          ...(json === undefined ? {} : { "content-type": "application/json" }),
        },
        // Spread, not `body: undefined`: the request type is fetch's, whose body may be absent but not undefined.
        ...(json === undefined ? {} : { body: json }),
        redirect: "manual",
        signal: deadline.callSignal(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const outcome = thrownOutcome(error, deadline);
      const message = `${method} ${url}: ${THROWN[outcome]}`;
      return transient(outcome, new SelfServiceError("admin_unavailable", message));
    }
    const status = response.status;
    if (status >= 500 || status === 429) {
      const error = new SelfServiceError("admin_unavailable", `${method} ${url}: HTTP ${status}`, status);
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), runtime.now());
      return { ...transient(`http_${status}`, error), status, retryAfterMs };
    }
    if (status < 200 || status >= 300) {
      throw new SelfServiceError(
        "admin_rejected",
        `${method} ${url}: HTTP ${status}${describeError(text)}`,
        status,
      );
    }
    return { kind: "ok", value: { status, text } };
  }

  /** A call's deadline, from now. */
  private deadline(): Deadline {
    const { monotonic } = this.reads;
    return new Deadline(monotonic() + this.deadlineMs, monotonic, this.alarm);
  }
}

const transient = (outcome: string, cause: SelfServiceError) =>
  ({ kind: "transient", outcome, cause }) as const;

/** Only the members a key is registered with; nothing else the answer may carry. */
export function postable(key: object): RegisteredJwk {
  const from = key as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const member of POSTED_MEMBERS) if (from[member] !== undefined) out[member] = from[member];
  return out as unknown as RegisteredJwk;
}

const ErrorBodySchema = v.object({
  error: v.optional(v.string()),
  error_description: v.optional(v.string()),
  message: v.optional(v.string()),
});

/** `: <error> <description>` from an error body, without control characters, shortened; nothing when unreadable. */
function describeError(text: string): string {
  const body = v.safeParse(ErrorBodySchema, parseJson(text));
  if (!body.success) return "";
  const { error, error_description, message } = body.output;
  const parts = [error, error_description ?? message].filter((p) => p !== undefined);
  if (parts.length === 0) return "";
  return `: ${parts
    .join(" ")
    .replace(/[\p{Cc}\p{Cf}\s]+/gu, " ")
    .slice(0, MAX_DETAIL)}`;
}
