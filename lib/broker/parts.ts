// The parts the use case works with, one of each per cold start: built by compose.ts, read by pipeline.ts.
import type { TokenExchange } from "../altinn/exchange.ts";
import type { AuditTrail } from "../audit/index.ts";
import type { RefusalMemory, TokenCache } from "../cache/index.ts";
import type { Policy } from "../policy/index.ts";
import type { UpstreamRejected } from "../problem/index.ts";
import type { ParsedTokenRequest, RawTokenBody } from "../request/index.ts";
import type { Alarm } from "../upstream/deadline.ts";
import type { BrokerClients } from "./clients.ts";
import type { PrincipalBudgets } from "./grant-budget.ts";
import type { PidPseudonyms } from "./pid-pseudonyms.ts";
import type { Minted } from "./token-record.ts";

/** What the use case works with: one of each per cold start. */
export interface BrokerParts {
  readonly parseRequest: (raw: RawTokenBody) => ParsedTokenRequest;
  readonly clients: BrokerClients;
  readonly policy: Policy;
  readonly pseudonyms: PidPseudonyms;
  /** Maskinporten tokens and exchanged tokens alike: the cache key tells them apart. */
  readonly cache: TokenCache<Minted>;
  /** Maskinporten's and Altinn's refusals (4xx), each under the key of the request it refused. */
  readonly refusals: RefusalMemory<UpstreamRejected>;
  readonly budgets: PrincipalBudgets;
  readonly exchange: TokenExchange;
  readonly audit: AuditTrail;
  /** Monotonic clock (ms) of the cache, the refusal memory, the budget, the deadlines and the upstream clients. */
  readonly monotonic: () => number;
  /** What tells each request's deadline that it passed, on `monotonic`. */
  readonly alarm: Alarm;
}
