// Audit records and metrics: what the security team reads.
export {
  type AuditEvent,
  type AuditRecord,
  type AuditSinks,
  AuditTrail,
  attemptFields,
  METRICS_NAMESPACE,
  SERVICE_NAME,
  tokenFingerprint,
} from "./audit-trail.ts";
