// Audit records and metrics: what the security team reads.
export {
  type AuditEvent,
  type AuditRecord,
  type AuditSinks,
  AuditTrail,
  attemptFields,
  exchangeFields,
  METRICS_NAMESPACE,
  SERVICE_NAME,
  tokenFingerprint,
  upstreamOf,
} from "./audit-trail.ts";
