// The trace of one /token request (or background refresh): its deadline and every attempt its steps made.
import type { ExchangeAttempt } from "../altinn/exchange.ts";
import type { AttemptRecord } from "../maskinporten/types.ts";
import type { Deadline } from "../upstream/deadline.ts";

/** Written by the steps (the Maskinporten and Altinn clients append their attempts), read by the audit record. */
export class RequestTrace {
  /** One per grant tried with Maskinporten, retries included. */
  readonly attempts: AttemptRecord[] = [];
  /** One per call to Altinn's exchange. */
  readonly exchangeAttempts: ExchangeAttempt[] = [];

  constructor(readonly deadline: Deadline) {}
}
