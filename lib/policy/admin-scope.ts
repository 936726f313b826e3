// Digdir's administration scopes: the ones the self-service client asks for, and the family no policy glob grants.

/** Every scope beginning with one of these (compared without case) administers clients: their keys, their scopes. */
const ADMINISTRATION_PREFIXES = ["idporten:dcr", "idporten:scopes"] as const;
type AdministrationScope = `${(typeof ADMINISTRATION_PREFIXES)[number]}${string}`;

/** The scopes the self-service client asks of the admin token: reading a client's keys, and changing them. */
export const ADMIN_SCOPES = {
  read: "idporten:dcr.read",
  write: "idporten:dcr.write",
} as const satisfies Record<string, AdministrationScope>;
export type AdminScope = (typeof ADMIN_SCOPES)[keyof typeof ADMIN_SCOPES];

/** The family as the deny reason names it: `idporten:dcr*, idporten:scopes*`. */
export const ADMINISTRATION_GLOBS = ADMINISTRATION_PREFIXES.map((prefix) => `${prefix}*`).join(", ");

/**
 * True for Digdir's self-service API scopes: whoever holds one can replace the client's registered keys and mint
 * tokens outside the broker. Compared without case so no spelling of them slips past a glob.
 */
export function isAdministrationScope(scope: string): boolean {
  const lower = scope.toLowerCase();
  return ADMINISTRATION_PREFIXES.some((prefix) => lower.startsWith(prefix));
}
