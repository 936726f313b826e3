// `npm start`'s Altinn examples: a system user with an externalRef, two consents and an onbehalfof value, registered at
// the emulator and allowed by the local policy, so the tour can show each.
import type { ClientRegistration } from "./maskinporten-emulator.ts";

/** An accountant's customer with a system user for the local client's system, created with an externalRef. */
export const EXAMPLE_SYSTEMUSER_ORG = "310000019";
export const EXAMPLE_EXTERNAL_REF = "kunde-4711";
/** A synthetic test identity (Skatteetaten's Tenor: month + 80), valid only in Maskinporten's test environment. */
export const EXAMPLE_CONSENT_PERSON = "17859040055";
export const EXAMPLE_PERSON_CONSENT_ID = "0a7d59f8-8c62-4312-9fb4-62456664c96f";
/** A consent an organisation gave, and the organisation. */
export const EXAMPLE_CONSENT_ORG = "310000027";
export const EXAMPLE_ORG_CONSENT_ID = "b55b0a8c-46db-4239-a417-a89daabfabba";
export const EXAMPLE_ONBEHALFOF = "kunde-1";

const YEAR_MS = 365 * 86_400_000;

/** What the emulator registers on every local client besides its keys and scopes. */
export function exampleRegistration(
  scopes: readonly string[],
  nowMs: number,
): Pick<ClientRegistration, "systemUsers" | "consents" | "onbehalfof"> {
  const consent = {
    scopes,
    validTo: new Date(nowMs + YEAR_MS).toISOString(),
    resource: "standard-samtykke-for-dele-data",
  };
  return {
    systemUsers: [{ orgNumber: EXAMPLE_SYSTEMUSER_ORG, externalRef: EXAMPLE_EXTERNAL_REF }],
    consents: [
      {
        ...consent,
        id: EXAMPLE_PERSON_CONSENT_ID,
        from: EXAMPLE_CONSENT_PERSON,
        metadata: { inntektsaar: "2025" },
      },
      { ...consent, id: EXAMPLE_ORG_CONSENT_ID, from: EXAMPLE_CONSENT_ORG },
    ],
    onbehalfof: [EXAMPLE_ONBEHALFOF],
  };
}

/** The local policy's rules for them: each field is a requirement, so each example takes a rule of its own. */
export function exampleRules(base: Record<string, unknown>): Record<string, unknown>[] {
  return [
    { ...base, systemuser_orgs: [EXAMPLE_SYSTEMUSER_ORG], systemuser_external_refs: [EXAMPLE_EXTERNAL_REF] },
    { ...base, consent: true },
    { ...base, onbehalfofs: [EXAMPLE_ONBEHALFOF] },
  ];
}
