// ALTINN_EXCHANGE_URL: Altinn's token exchange, by default the Maskinporten environment's own.
import type { MaskinportenEnvironment } from "./environment.ts";
import { given, type Read } from "./problems.ts";
import { type Env, upstreamUrl, variables } from "./variables.ts";

/** Altinn's exchange endpoint per Maskinporten environment: TT02 for test, production for prod. */
const EXCHANGE_URLS = {
  test: "https://platform.tt02.altinn.no/authentication/api/v1/exchange/maskinporten",
  prod: "https://platform.altinn.no/authentication/api/v1/exchange/maskinporten",
} as const;

export interface AltinnConfig {
  exchangeUrl: string;
}

const altinn = variables({ ALTINN_EXCHANGE_URL: upstreamUrl("ALTINN_EXCHANGE_URL") });

export function readAltinn(env: Env, maskinporten: Read<MaskinportenEnvironment>): Read<AltinnConfig> {
  const e = altinn(env);
  if ("errors" in e) return e;
  return given(maskinporten, (m) => ({
    value: { exchangeUrl: e.value.ALTINN_EXCHANGE_URL ?? EXCHANGE_URLS[m.env] },
  }));
}
