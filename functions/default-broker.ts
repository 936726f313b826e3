// The broker of this Lambda container, built from the environment during the cold start (token and jwks routes).
import { AuditTrail } from "../lib/audit/index.ts";
import { createBroker } from "../lib/broker/compose.ts";
import { loadConfig } from "../lib/config/index.ts";
import { lazy } from "./http.ts";

/** The container's one audit trail: the broker's, and the token handler's for a request no broker could answer. */
export const containerAudit = new AuditTrail();

export const defaultBroker = lazy(async () => createBroker(loadConfig(), { audit: containerAudit }));

// Start building it while the module loads (Lambda's init phase): configuration, policy and the key's public half
// are checked before the first request arrives. A failure is not kept; the first request tries again and answers
// (or, for an invalid configuration, fails the invocation and logs what to fix).
defaultBroker().catch(() => undefined);
