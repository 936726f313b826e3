// Test support: a TokenRequest from plain values, for the units downstream of the parse (grant, policy, upstream).
import type { OrgNumber, Pid, TokenRequest } from "../../lib/request/index.ts";

/** The request's fields as plain values: what a test writes, before any brand. */
export interface PlainRequest {
  readonly scopes: readonly string[];
  readonly resource?: readonly string[];
  readonly consumerOrg?: string;
  readonly systemuserOrg?: string;
  readonly systemuserExternalRef?: string;
  readonly client?: string;
  readonly pid?: string;
  readonly consent?: { readonly id: string; readonly from: string };
  readonly onbehalfof?: string;
  readonly exchange?: "altinn";
}

/**
 * The fields taken as if the request parser had minted them. Only for units that take a parsed request as given:
 * a test of what the parse proves (canonical sets, checked numbers) goes through parseTokenRequest instead.
 */
export function asParsed(fields: PlainRequest): TokenRequest {
  return fields as TokenRequest;
}

/** A consent's giver taken as if the parser had checked it (a pid or an organisation number). */
export function asParty(from: string): Pid | OrgNumber {
  return from as Pid | OrgNumber;
}
