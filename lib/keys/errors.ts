// The key operations' errors: one base with a stable code, as lib/problem is for the service's answers.
import { CodedError } from "../errors/coded.ts";

export type KeyErrorCode =
  /** A command asked with arguments it cannot take. */
  | "usage"
  /** The self-service API refused (4xx). */
  | "admin_rejected"
  /** The self-service API was unreachable (5xx, 429, network, timeout). */
  | "admin_unavailable"
  /** The self-service API answered something unreadable. */
  | "admin_malformed"
  /** A change the key set cannot take; the message says what to do instead. */
  | "key_set_refused"
  /** The key set kept changing under a change, or lost a key the change kept: someone else writes it too. */
  | "key_set_changed"
  /** The key watch could not read or renew a client's keys (the others were still watched). */
  | "key_watch_failed";

/** A key operation's failure; its message is safe to print and names what to do. */
export abstract class KeyError extends CodedError {
  abstract override readonly code: KeyErrorCode;
}

export class KeySetRefusal extends KeyError {
  override readonly name = "KeySetRefusal";
  readonly code = "key_set_refused";
}

export class KeySetChanged extends KeyError {
  override readonly name = "KeySetChanged";
  readonly code = "key_set_changed";
}

export class KeyWatchFailed extends KeyError {
  override readonly name = "KeyWatchFailed";
  readonly code = "key_watch_failed";
}

export type SelfServiceErrorCode = "admin_rejected" | "admin_unavailable" | "admin_malformed";

/** What the self-service API did wrong, with its HTTP status when it answered. */
export class SelfServiceError extends KeyError {
  override readonly name = "SelfServiceError";
  constructor(
    readonly code: SelfServiceErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
