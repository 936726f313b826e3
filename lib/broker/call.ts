// What the broker is asked and answers: a POST /token call from the edge, and the answer it gets.
import type { CacheOutcome } from "../cache/index.ts";
import type { TokenAnswerBody } from "../contract/index.ts";
import type { RawTokenBody } from "../request/index.ts";
import type { PublicJwk } from "../signer/index.ts";

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
}
