// The emulator's checks of a grant's authorization_details (Altinn system users and consents), with Digdir's MP-30x codes.
import * as v from "valibot";
import { OAuthError } from "./oauth-error.ts";
import type { RegisteredClient, RegisteredConsent } from "./registry.ts";

export const AUTHORIZATION_DETAILS_TYPES = ["urn:altinn:systemuser", "urn:altinn:consent"] as const;

const PERSON = "urn:altinn:person:identifier-no:";
const ORGANISATION = "urn:altinn:organization:identifier-no:";

/** Each type's fields, strict: Maskinporten refuses unknown fields. */
const SystemUserSchema = v.strictObject({
  type: v.literal("urn:altinn:systemuser"),
  systemuser_org: v.strictObject({
    authority: v.literal("iso6523-actorid-upis"),
    ID: v.pipe(v.string(), v.regex(/^0192:\d{9}$/)),
  }),
  externalRef: v.optional(v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,255}$/))),
});

const ConsentSchema = v.strictObject({
  type: v.literal("urn:altinn:consent"),
  id: v.pipe(v.string(), v.uuid()),
  from: v.pipe(
    v.string(),
    v.regex(/^urn:altinn:(person:identifier-no:\d{11}|organization:identifier-no:\d{9})$/),
  ),
});

export type SystemUserDetail = v.InferOutput<typeof SystemUserSchema>;
export type ConsentDetail = v.InferOutput<typeof ConsentSchema>;

/** What the entry asked for, once its shape checks out: the system user found, or the consent found. */
export type AuthorizedDetail =
  | { type: "urn:altinn:systemuser"; id: string; orgNumber: string }
  | { type: "urn:altinn:consent"; id: string; from: string; consent: RegisteredConsent };

/** RFC 9396's error for authorization_details Maskinporten cannot use. */
const invalidDetails = (mpCode: string, text: string) =>
  new OAuthError("invalid_authorization_details", mpCode, text);
/** Altinn's troubleshooting guide: the system user could not be found or matched. */
const customerConfiguration = (text: string) =>
  new OAuthError("invalid_altinn_customer_configuration", "MP-303", text);

/**
 * The one entry's shape: one entry of a known type (MP-301), then its fields and values (MP-302). MP-303 is kept
 * for what Altinn documents it as: a system user not found or not matched.
 */
export function parseAuthorizationDetails(details: unknown): SystemUserDetail | ConsentDetail {
  if (!Array.isArray(details) || details.length !== 1) {
    throw invalidDetails(
      "MP-301",
      "Invalid authorization details values: exactly one entry (one party per request)",
    );
  }
  const entry: unknown = details[0];
  const type = (entry as { type?: unknown } | null)?.type;
  const schema =
    type === "urn:altinn:systemuser"
      ? SystemUserSchema
      : type === "urn:altinn:consent"
        ? ConsentSchema
        : undefined;
  if (schema === undefined) {
    throw invalidDetails(
      "MP-301",
      `Unknown authorization details type; supported: ${AUTHORIZATION_DETAILS_TYPES.join(", ")}`,
    );
  }
  const parsed = v.safeParse(schema, entry);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0];
  const field = String(issue.path?.[0]?.key ?? "?");
  if (issue.type === "strict_object" && issue.expected === "never") {
    throw invalidDetails("MP-302", `Unknown fields in the authorization details: ${field}`);
  }
  throw invalidDetails("MP-302", `Invalid authorization details values: ${field}`);
}

export interface DetailContext {
  client: RegisteredClient;
  scopes: readonly string[];
  /** The grant's consumer_org: a consent combined with a delegation is given to the delegating organisation. */
  consumerOrg: string | undefined;
  nowSeconds: number;
}

/** Finds the system user or the consent the entry names, or throws the OAuth error Maskinporten answers. */
export function checkAuthorizationDetails(details: unknown, ctx: DetailContext): AuthorizedDetail {
  const detail = parseAuthorizationDetails(details);
  return detail.type === "urn:altinn:systemuser" ? systemUser(detail, ctx) : consent(detail, ctx);
}

/**
 * Altinn finds a system user by organisation and externalRef (the organisation number when the request has none);
 * Maskinporten does not check its rights against the scopes: the API asks Altinn's PDP.
 */
function systemUser(detail: SystemUserDetail, ctx: DetailContext): AuthorizedDetail {
  const orgNumber = detail.systemuser_org.ID.slice("0192:".length);
  const users = ctx.client.systemUsers.get(orgNumber) ?? [];
  const wanted = detail.externalRef ?? orgNumber;
  const user = users.find((u) => u.externalRef === wanted);
  if (user !== undefined) return { type: detail.type, id: user.id, orgNumber };
  if (users.length === 0) {
    throw customerConfiguration(
      `No system user for organisation ${orgNumber} on the system of client ${ctx.client.clientId}`,
    );
  }
  throw customerConfiguration(
    detail.externalRef === undefined
      ? `Organisation ${orgNumber} has ${users.length === 1 ? "a system user created with an externalRef" : "several system users"} for this system: send its externalRef`
      : `No system user of organisation ${orgNumber} with that externalRef on this system`,
  );
}

/** A consent must exist, be from the party named, given to the consumer, still valid, and cover the scopes. */
function consent(detail: ConsentDetail, ctx: DetailContext): AuthorizedDetail {
  const from = detail.from.startsWith(PERSON)
    ? detail.from.slice(PERSON.length)
    : detail.from.slice(ORGANISATION.length);
  const known = ctx.client.consents.get(detail.id.toLowerCase());
  // The description never repeats `from`: a person's is a pid.
  const refuse = (why: string) =>
    invalidDetails("MP-302", `Invalid authorization details values: consent ${detail.id} ${why}`);
  if (known === undefined) throw refuse("not found");
  if (known.from !== from) throw refuse("was not given by that party");
  if (known.to !== (ctx.consumerOrg ?? ctx.client.orgNumber)) throw refuse("was not given to the consumer");
  if (Date.parse(known.validTo) <= ctx.nowSeconds * 1000) throw refuse("has expired");
  const uncovered = ctx.scopes.find((scope) => !known.scopes.has(scope));
  if (uncovered !== undefined) throw refuse(`does not cover scope ${uncovered}`);
  return { type: detail.type, id: detail.id, from: detail.from, consent: known };
}
