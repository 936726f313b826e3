// MASKINPORTEN_ENV / _ISSUER / _TOKEN_URL: the Maskinporten environment (test or prod) and its endpoints, each overridable.
import * as v from "valibot";
import { expecting } from "./problems.ts";
import { text, upstreamUrl } from "./variables.ts";

const MASKINPORTEN_ENVIRONMENTS = {
  test: {
    issuer: "https://test.maskinporten.no/",
    tokenUrl: "https://test.maskinporten.no/token",
  },
  prod: {
    issuer: "https://maskinporten.no/",
    tokenUrl: "https://maskinporten.no/token",
  },
} as const;

export interface MaskinportenEnvironment {
  env: "test" | "prod";
  issuer: string;
  tokenUrl: string;
}

/** The environment's variables, each schema naming its own: part of every loader's one pass over the environment. */
export const MASKINPORTEN_VARIABLES = {
  MASKINPORTEN_ENV: v.pipe(
    text,
    v.picklist(["test", "prod"], expecting("MASKINPORTEN_ENV", '"test" or "prod"')),
  ),
  MASKINPORTEN_ISSUER: upstreamUrl("MASKINPORTEN_ISSUER"),
  MASKINPORTEN_TOKEN_URL: upstreamUrl("MASKINPORTEN_TOKEN_URL"),
};

/** The Maskinporten environment's issuer and token endpoint, each overridable. */
export function maskinportenOf(
  e: v.InferOutput<v.ObjectSchema<typeof MASKINPORTEN_VARIABLES, undefined>>,
): MaskinportenEnvironment {
  const defaults = MASKINPORTEN_ENVIRONMENTS[e.MASKINPORTEN_ENV];
  return {
    env: e.MASKINPORTEN_ENV,
    issuer: e.MASKINPORTEN_ISSUER ?? defaults.issuer,
    tokenUrl: e.MASKINPORTEN_TOKEN_URL ?? defaults.tokenUrl,
  };
}
