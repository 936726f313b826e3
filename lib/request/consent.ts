// Altinn consent (samtykke) references and the other Altinn request values: their syntax, their schemas, and the party URN a consent is from.
import * as v from "valibot";
import { strictDocument } from "../schema/index.ts";
import { isOrgNumber } from "./org-number.ts";
import { isPid, type PidOptions } from "./pid.ts";
import { textSchema } from "./text.ts";
import type { OrgNumber, Pid } from "./types.ts";

/** A consent request's id: a UUID, any version, in either case (canonical lower case). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const CONSENT_ID_RULE = "consent.id: expected the consent request's UUID";
/** Never repeats the value: a person's `from` is a pid. */
export const CONSENT_FROM_RULE =
  "consent.from: expected an 11-digit national identity number with valid control digits or a 9-digit organisation number with a valid check digit";
export const CONSENT_RULE =
  'consent: expected {"id": <consent request UUID>, "from": <pid or organisation number>}';

export const EXTERNAL_REF_RULE =
  "expected 1 to 255 printable ASCII characters, no spaces or control characters";
export const ONBEHALFOF_RULE = "expected 1 to 64 characters of letters, digits, '.', '_' or '-'";

export function isConsentId(value: string): boolean {
  return UUID.test(value);
}

/** A person (pid) or an organisation may give a consent. */
export function isConsentFrom(value: string, options: PidOptions): value is Pid | OrgNumber {
  return value.length === 9 ? isOrgNumber(value) : isPid(value, options);
}

/** A system user's externalRef, as Altinn's system register accepts it from the vendor. */
export function isExternalRef(value: string): boolean {
  return /^[\x21-\x7e]{1,255}$/.test(value);
}

/** An onbehalfof value registered on a Maskinporten client. */
export function isOnbehalfof(value: string): boolean {
  return /^[A-Za-z0-9._-]{1,64}$/.test(value);
}

/** True when a consent's `from` is a person (a pid: personal data, never logged), not an organisation. */
export function isPerson(from: Pid | OrgNumber): from is Pid {
  return from.length === 11;
}

/** True when the consent is a person's. */
export function isPersonConsent(consent: { readonly from: Pid | OrgNumber }): boolean {
  return isPerson(consent.from);
}

/** The grant's `from`: the URN Altinn names a person or an organisation by. */
export function consentParty(consent: { readonly from: Pid | OrgNumber }): string {
  return isPersonConsent(consent)
    ? `urn:altinn:person:identifier-no:${consent.from}`
    : `urn:altinn:organization:identifier-no:${consent.from}`;
}

// The messages name the field and never repeat the value.
export const externalRefField = textSchema(isExternalRef, `systemuser_external_ref: ${EXTERNAL_REF_RULE}`);
export const onbehalfofField = textSchema(isOnbehalfof, `onbehalfof: ${ONBEHALFOF_RULE}`);

/** `{id, from}`: the id lower-cased (one consent, one cache entry), `from` a valid pid or organisation number. */
export const consentField = (options: PidOptions) =>
  strictDocument(
    {
      id: v.pipe(
        textSchema(isConsentId, CONSENT_ID_RULE),
        v.transform((id) => id.toLowerCase()),
      ),
      from: textSchema<Pid | OrgNumber>((from) => isConsentFrom(from, options), CONSENT_FROM_RULE),
    },
    // Neither an unknown field's name nor a value is echoed: a caller may have put a pid in either.
    { notObject: CONSENT_RULE, unknown: () => CONSENT_RULE },
  );
