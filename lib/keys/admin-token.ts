// Admin tokens for the self-service API: ordinary Maskinporten tokens for idporten:dcr.*, minted by a configured client.
import type { TokenSource } from "../maskinporten/types.ts";
import type { AdminScope, AdminTokenSource } from "./admin-api.ts";

/** A token is reused for its scope until this long before it expires. */
const REUSE_MARGIN_MS = 10_000;

/** One token per scope, kept while it has more than 10 s left; `now` is the wall clock (epoch ms). */
export function adminTokens(source: TokenSource, now: () => number = Date.now): AdminTokenSource {
  const held = new Map<AdminScope, { token: string; until: number }>();
  return async (scope) => {
    const kept = held.get(scope);
    if (kept !== undefined && kept.until > now()) return kept.token;
    const started = now();
    const { token } = await source.requestToken({ scopes: [scope] });
    held.set(scope, {
      token: token.access_token,
      until: started + token.expires_in * 1000 - REUSE_MARGIN_MS,
    });
    return token.access_token;
  };
}
