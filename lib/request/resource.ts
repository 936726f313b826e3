// Resource indicators: absolute https URIs of URI characters only, validated but never rewritten (compared byte for byte).
import { sortedSet } from "../contract/index.ts";
import type { ResourceSet, ResourceUri } from "./types.ts";

/** At most this many resources in one request. */
export const MAX_RESOURCES = 5;
/** Longer values are refused before any parsing. */
export const MAX_RESOURCE_LENGTH = 2048;

/**
 * RFC 3986 characters (unreserved, reserved, `%`) without `#`: printable ASCII, so no whitespace, control or
 * bidi characters, and no fragment (a resource indicator carries none).
 */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?[\]@!$&'()*+,;=%]+$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
const HTTPS_AUTHORITY = /^https:\/\/[^/?]/i;

/** `user:password@` before the host: a credential, which the broker would write into the grant and the log. */
const USERINFO = /^https:\/\/[^/?]*@/i;

/** True when the URI carries userinfo (`https://user:pass@host`, `https://@host`). */
export function hasUserinfo(value: string): boolean {
  return USERINFO.test(value);
}

export const USERINFO_MESSAGE = "resource: a URI must not carry userinfo (user:password@ before the host)";

export const RESOURCE_RULE =
  "an absolute https URI of URI characters (printable ASCII: no spaces, control or bidi characters, no fragment)";

/**
 * True for an absolute `https://host...` URI made only of URI characters, without userinfo. `new URL` only checks that it parses;
 * the caller's string is what goes into the grant, since Maskinporten compares it with the registered resource.
 */
export function isResourceUri(value: string): value is ResourceUri {
  if (value.length > MAX_RESOURCE_LENGTH || !URI_CHARACTERS.test(value) || BAD_PERCENT.test(value)) {
    return false;
  }
  if (!HTTPS_AUTHORITY.test(value) || hasUserinfo(value)) return false;
  try {
    return new URL(value).hostname !== "";
  } catch {
    return false;
  }
}

/** The resource list in its canonical form, once: the grant and the cache key take it as it is. */
export function resourceSet(uris: readonly ResourceUri[]): ResourceSet {
  return sortedSet(uris) as readonly ResourceUri[] as ResourceSet;
}
