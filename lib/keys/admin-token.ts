// Admin tokens for the self-service API: ordinary Maskinporten tokens for idporten:dcr.*, minted by a configured client.
import { attemptFields, tokenFingerprint } from "../audit/index.ts";
import type { AttemptRecord, TokenSource } from "../maskinporten/types.ts";
import type { AdminScope } from "../policy/admin-scope.ts";
import { InvalidRequest, toProblem } from "../problem/index.ts";
import { parseScope } from "../request/index.ts";
import type { AdminTokenSource } from "./admin-api.ts";

/** A token is reused for its scope until this long before it expires. */
const REUSE_MARGIN_MS = 10_000;

/** What the audit trail learns of each admin token: every grant signed for it, never the token. */
export interface AdminTokenRecord {
  event: "admin_token_issued" | "admin_token_failed";
  /** The configured client that asked for it. */
  client: string;
  scope: AdminScope;
  grant_jti?: string;
  grants_signed?: number;
  key?: string;
  upstream_status?: number;
  token_fingerprint?: string;
  expires_in?: number;
  code?: string;
  reason?: string;
}

export interface AdminTokenOptions {
  /** The asking client's name, for the record. */
  client: string;
  /** Wall clock, epoch ms. */
  now?: (() => number) | undefined;
  onRecord?: ((record: AdminTokenRecord) => void) | undefined;
}

/** One token per scope, kept while it has more than 10 s left; each one minted (or refused) is recorded. */
export function adminTokens(source: TokenSource, options: AdminTokenOptions): AdminTokenSource {
  const now = options.now ?? Date.now;
  const record = options.onRecord ?? (() => undefined);
  const held = new Map<AdminScope, { token: string; until: number }>();
  return async (scope, deadline) => {
    const kept = held.get(scope);
    if (kept !== undefined && kept.until > now()) return kept.token;
    const started = now();
    const attempts: AttemptRecord[] = [];
    const base = { client: options.client, scope };
    try {
      const parsed = parseScope(scope);
      if ("error" in parsed) throw new InvalidRequest(`scope: ${parsed.error}`);
      const { token } = await source.requestToken(
        { scopes: parsed.scopes },
        deadline === undefined ? { attempts } : { attempts, deadline },
      );
      record({
        event: "admin_token_issued",
        ...base,
        ...attemptFields(attempts),
        token_fingerprint: tokenFingerprint(token.access_token),
        expires_in: token.expires_in,
      });
      held.set(scope, {
        token: token.access_token,
        until: started + token.expires_in * 1000 - REUSE_MARGIN_MS,
      });
      return token.access_token;
    } catch (error) {
      const problem = toProblem(error);
      record({
        event: "admin_token_failed",
        ...base,
        ...attemptFields(attempts),
        code: problem.code,
        reason: problem.auditReason,
      });
      throw error;
    }
  };
}
