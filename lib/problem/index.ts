// Every error the service can answer with, one class per stable code, and its HTTP mapping in one table.
import { PROBLEM_TABLE, type ProblemCode } from "../contract/index.ts";
import { CodedError } from "../errors/coded.ts";

export {
  DIGITS_MASK,
  ENCODED_MASK,
  holdsDigitRun,
  maskDigitRuns,
  quoted,
  shownArn,
  upstreamText,
} from "./redact.ts";

/** The services the broker calls: Maskinporten for every token, Altinn for an exchange. */
export type Upstream = "maskinporten" | "altinn";
export const UPSTREAM_NAMES: Readonly<Record<Upstream, string>> = {
  maskinporten: "Maskinporten",
  altinn: "Altinn",
};

export interface ProblemOptions {
  cause?: unknown;
  causeName?: string | undefined;
  /**
   * The audit record's `reason` when it says more than the caller may be told (a key ARN, the configured
   * clients); `detail` otherwise. Caller-chosen text in it is masked as in `detail`.
   */
  auditReason?: string;
}

/** A domain error with a stable code. `detail` is safe to show to callers; `cause` never is. */
export abstract class Problem extends CodedError {
  abstract override readonly code: ProblemCode;
  /** Seconds a caller should wait before retrying (429 and 503s): the Retry-After header. */
  retryAfterSeconds?: number;
  /** Name of the underlying error (e.g. an AWS exception name), for the audit log only. */
  readonly causeName?: string;
  /** What the audit record says (never the response): `detail`, or more for the operator. */
  readonly auditReason: string;

  constructor(
    readonly detail: string,
    options: ProblemOptions = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.causeName !== undefined) this.causeName = options.causeName;
    this.auditReason = options.auditReason ?? detail;
  }

  get status(): number {
    return PROBLEM_TABLE[this.code].status;
  }

  get title(): string {
    return PROBLEM_TABLE[this.code].title;
  }

  /** Extra members of the problem+json body, beyond the standard ones. */
  extensions(): Record<string, string> {
    return {};
  }
}

export class InvalidRequest extends Problem {
  override readonly name = "InvalidRequest";
  readonly code = "invalid_request";
}

export class AccessDenied extends Problem {
  override readonly name = "AccessDenied";
  readonly code = "access_denied";
}

export class PayloadTooLarge extends Problem {
  override readonly name = "PayloadTooLarge";
  readonly code = "payload_too_large";
}

export class UnsupportedMediaType extends Problem {
  override readonly name = "UnsupportedMediaType";
  readonly code = "unsupported_media_type";
}

/** The principal's grant budget is spent on this instance; cached tokens are still served. */
export class RateLimited extends Problem {
  override readonly name = "RateLimited";
  readonly code = "rate_limited";
  constructor(detail: string, retryAfterSeconds: number) {
    super(detail);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Maskinporten (or Altinn) answered 4xx: its OAuth `error` and `error_description` go back to the caller. */
export class UpstreamRejected extends Problem {
  override readonly name = "UpstreamRejected";
  readonly code = "upstream_rejected";
  constructor(
    readonly upstreamStatus: number,
    readonly upstreamError: string,
    readonly upstreamErrorDescription: string,
    readonly upstream: Upstream = "maskinporten",
  ) {
    super(
      `${UPSTREAM_NAMES[upstream]} answered ${upstreamStatus} ${upstreamError}: ${upstreamErrorDescription}`,
    );
  }
  override extensions(): Record<string, string> {
    return {
      upstream: this.upstream,
      upstream_error: this.upstreamError,
      upstream_error_description: this.upstreamErrorDescription,
    };
  }
}

export class UpstreamUnavailable extends Problem {
  override readonly name = "UpstreamUnavailable";
  readonly code = "upstream_unavailable";
  readonly upstreamStatus?: number;
  readonly upstream: Upstream;
  constructor(
    detail: string,
    options: {
      cause?: unknown;
      causeName?: string | undefined;
      retryAfterSeconds?: number | undefined;
      upstreamStatus?: number | undefined;
      upstream?: Upstream | undefined;
    } = {},
  ) {
    super(detail, options);
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    this.upstream = options.upstream ?? "maskinporten";
    if (options.upstreamStatus !== undefined) this.upstreamStatus = options.upstreamStatus;
  }
  override extensions(): Record<string, string> {
    return { upstream: this.upstream };
  }
}

/** `detail` names the key by its role only ("the signing key"); its ARN goes in `auditReason`. */
export class SigningUnavailable extends Problem {
  override readonly name = "SigningUnavailable";
  readonly code = "signing_unavailable";
  constructor(detail: string, options: ProblemOptions & { retryAfterSeconds?: number } = {}) {
    super(detail, options);
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }
}

export class InternalError extends Problem {
  override readonly name = "InternalError";
  readonly code = "internal_error";
}

/** Anything thrown that is not a Problem becomes an internal_error whose detail reveals nothing. */
export function toProblem(error: unknown): Problem {
  if (error instanceof Problem) return error;
  return new InternalError("An internal error occurred", {
    cause: error,
    causeName: error instanceof Error ? error.name : typeof error,
  });
}

export interface ProblemResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** The problem+json (RFC 9457) response for a problem; its `type` is `typeBase` (PROBLEM_TYPE_BASE) and the code. */
export function problemResponse(problem: Problem, requestId: string, typeBase: string): ProblemResponse {
  const headers: Record<string, string> = {
    "Content-Type": "application/problem+json",
    "Cache-Control": "no-store",
  };
  if (problem.retryAfterSeconds !== undefined) headers["Retry-After"] = String(problem.retryAfterSeconds);
  const body = {
    type: `${typeBase}${problem.code}`,
    title: problem.title,
    status: problem.status,
    code: problem.code,
    detail: problem.detail,
    request_id: requestId,
    ...problem.extensions(),
  };
  return { statusCode: problem.status, headers, body: JSON.stringify(body) };
}
