// The names requests, policies and configuration agree on: a client's name, a key id, the single client's name.

/** A client's short name as requests and policy rules write it. */
export const CLIENT_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The name of the one client the single-client variables define. */
export const DEFAULT_CLIENT_NAME = "default";

/** A kid Maskinporten accepts: letters, digits, ".", "_", "-". */
export const KID_PATTERN = /^[A-Za-z0-9._-]{1,200}$/;
