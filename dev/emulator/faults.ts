// Faults the emulator can be told to commit on the next token requests, one per request, in order.
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

export type EmulatorFault =
  /** Answer this status (default body: an OAuth server_error JSON), optionally with Retry-After. */
  | { type: "status"; status: number; retryAfter?: string; body?: string }
  /** Wait this long, then handle the request normally. */
  | { type: "delay"; ms: number }
  /** Destroy the socket without answering. */
  | { type: "drop" }
  /** 200 with a truncated JSON body. */
  | { type: "malformed-json" }
  /** 200 with an HTML body. */
  | { type: "non-json" }
  /** Handle the grant normally, but leave expires_in out of a successful answer. */
  | { type: "missing-expires-in" };

export type FaultType = EmulatorFault["type"];

export const MALFORMED_JSON_BODY = '{"access_token":"eyJhbGciOi","token_type":"Bear';
export const NON_JSON_BODY = "<html><body><h1>Service temporarily unavailable</h1></body></html>";

export function defaultFaultBody(status: number): string {
  return JSON.stringify({
    error: status >= 500 ? "server_error" : status === 429 ? "slow_down" : "invalid_request",
    error_description: `Emulated fault: HTTP ${status}`,
  });
}

/** Where a fault plays: the request, how to answer it, and the record of what the emulator did with it. */
export interface FaultStage {
  req: IncomingMessage;
  res: Pick<ServerResponse, "setHeader">;
  /** Answers with a body; without a content type, the emulator's own default. */
  answer: (status: number, body: string, contentType?: string) => void;
  record: { outcome: number | "dropped"; fault?: FaultType };
  /** Aborts a delay when the emulator closes. */
  closing: AbortSignal;
  /** The body of a `status` fault that names none. */
  statusBody: (status: number) => string;
}

/**
 * Plays `fault` on one request: a delay is waited out (then the request goes on as usual); the others answer or
 * drop the request themselves. True when the fault has dealt with the request, so nothing else may answer it.
 */
export async function playFault(fault: EmulatorFault | undefined, stage: FaultStage): Promise<boolean> {
  if (fault === undefined) return false;
  stage.record.fault = fault.type;
  switch (fault.type) {
    case "delay":
      await sleep(fault.ms, undefined, { signal: stage.closing });
      return false;
    case "drop":
      stage.record.outcome = "dropped";
      stage.req.socket.destroy();
      return true;
    case "status":
      if (fault.retryAfter !== undefined) stage.res.setHeader("Retry-After", fault.retryAfter);
      stage.answer(fault.status, fault.body ?? stage.statusBody(fault.status));
      return true;
    case "malformed-json":
      stage.answer(200, MALFORMED_JSON_BODY, "application/json");
      return true;
    case "non-json":
      stage.answer(200, NON_JSON_BODY, "text/html");
      return true;
    case "missing-expires-in":
      return false;
  }
}
