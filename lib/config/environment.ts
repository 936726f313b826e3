// The Maskinporten environment (test or prod): its issuer and endpoints, each overridable by a variable.

export const MASKINPORTEN_ENVIRONMENTS = {
  test: {
    issuer: "https://test.maskinporten.no/",
    tokenUrl: "https://test.maskinporten.no/token",
    altinnExchangeUrl: "https://platform.tt02.altinn.no/authentication/api/v1/exchange/maskinporten",
  },
  prod: {
    issuer: "https://maskinporten.no/",
    tokenUrl: "https://maskinporten.no/token",
    altinnExchangeUrl: "https://platform.altinn.no/authentication/api/v1/exchange/maskinporten",
  },
} as const;

export interface MaskinportenEnvironment {
  env: "test" | "prod";
  issuer: string;
  tokenUrl: string;
}

/** The Maskinporten environment's issuer and token endpoint, each overridable. */
export function maskinportenOf(e: {
  MASKINPORTEN_ENV: "test" | "prod";
  MASKINPORTEN_ISSUER?: string | undefined;
  MASKINPORTEN_TOKEN_URL?: string | undefined;
}): MaskinportenEnvironment {
  const defaults = MASKINPORTEN_ENVIRONMENTS[e.MASKINPORTEN_ENV];
  return {
    env: e.MASKINPORTEN_ENV,
    issuer: e.MASKINPORTEN_ISSUER ?? defaults.issuer,
    tokenUrl: e.MASKINPORTEN_TOKEN_URL ?? defaults.tokenUrl,
  };
}
