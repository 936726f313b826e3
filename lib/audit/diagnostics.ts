// Levelled diagnostic lines for operators (a refresh that failed, a skewed clock, an invalid configuration): JSON
// on stderr like Powertools Logger's, at the level POWERTOOLS_LOG_LEVEL / LOG_LEVEL / AWS_LAMBDA_LOG_LEVEL set,
// read once. The audit records are not these: they are written at any level (audit-line.ts).

/** What the broker logs through; Powertools Logger fits it too (tests inject one). */
export interface DiagnosticLogger {
  warn(message: string, fields: Readonly<Record<string, unknown>>): void;
  error(message: string, fields: Readonly<Record<string, unknown>>): void;
}

/** Powertools Logger's thresholds; Lambda's FATAL counts as its CRITICAL. */
const THRESHOLDS: Readonly<Record<string, number>> = {
  TRACE: 6,
  DEBUG: 8,
  INFO: 12,
  WARN: 16,
  ERROR: 20,
  CRITICAL: 24,
  FATAL: 24,
  SILENT: 28,
};

/**
 * The threshold a line must reach: POWERTOOLS_LOG_LEVEL (or LOG_LEVEL), INFO by default; Lambda's own level
 * (AWS_LAMBDA_LOG_LEVEL, advanced logging controls) wins when it is stricter, as it drops the rest anyway.
 */
export function logThreshold(env: Readonly<Record<string, string | undefined>>): number {
  const own = THRESHOLDS[(env.POWERTOOLS_LOG_LEVEL || env.LOG_LEVEL || "INFO").toUpperCase()] ?? 12;
  const lambda = THRESHOLDS[(env.AWS_LAMBDA_LOG_LEVEL ?? "").toUpperCase()];
  return lambda === undefined ? own : Math.max(own, lambda);
}

export interface DiagnosticOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** Wall clock, epoch ms. */
  now?: () => number;
}

/** `{"level":…,"message":…,"timestamp":…,"service":…,…fields}` lines on stderr (looked up per write). */
export function diagnosticLogger(service: string, options: DiagnosticOptions = {}): DiagnosticLogger {
  const threshold = logThreshold(options.env ?? process.env);
  const now = options.now ?? Date.now;
  const at =
    (level: "WARN" | "ERROR") =>
    (message: string, fields: Readonly<Record<string, unknown>>): void => {
      if ((THRESHOLDS[level] ?? 0) < threshold) return;
      const timestamp = new Date(now()).toISOString();
      process.stderr.write(`${JSON.stringify({ level, message, timestamp, service, ...fields })}\n`);
    };
  return { warn: at("WARN"), error: at("ERROR") };
}
