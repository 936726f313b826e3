// Audit records and metrics: what the security team reads.
export { AUDIT_LEVEL, auditLine, type LineWriter } from "./audit-line.ts";
export {
  type AuditEvent,
  type AuditRecord,
  type AuditSinks,
  AuditTrail,
  altinnFields,
  attemptFields,
  exchangeFields,
  FAILURE_EVENT,
  METRICS_NAMESPACE,
  tokenFingerprint,
  upstreamOf,
} from "./audit-trail.ts";
export { type DiagnosticLogger, diagnosticLogger, logThreshold } from "./diagnostics.ts";
export { DEFAULT_SERVICE_NAME, serviceName } from "./service-name.ts";
