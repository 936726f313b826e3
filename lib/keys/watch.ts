// The daily key watch: each client's status as a log record and EMF metrics; with auto-renew, an audited renewal.
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { AUDIT_LEVEL, auditLine, type LineWriter, stdoutWriter } from "../audit/audit-line.ts";
import { METRICS_NAMESPACE, serviceName } from "../audit/index.ts";
import type { KeyConfig } from "../config/index.ts";
import type { AdminTokenRecord } from "./admin-token.ts";
import { KeyWatchFailed } from "./errors.ts";
import type { KeyLifecycle } from "./lifecycle.ts";
import { createKeyLifecycles, type KeySetupDeps } from "./setup.ts";
import type { KeyStatus } from "./status.ts";

export interface KeyWatchSinks {
  logger?: Logger;
  metrics?: Metrics;
  /** Where audit lines go (stdout): written whatever the log level. */
  write?: LineWriter;
  /** Wall clock (epoch ms) of the audit lines' timestamps. */
  now?: (() => number) | undefined;
  /** The `service` of its lines and metrics; POWERTOOLS_SERVICE_NAME by default. */
  service?: string;
}

/** Writes one audit record; any record with an `event`. */
type AuditWrite = <T extends { readonly event: string }>(record: T) => void;

/** Writes audit records (a registration changed, a grant signed) as audit lines, which no log level drops. */
function auditWriter(sinks: KeyWatchSinks): AuditWrite {
  const service = sinks.service ?? serviceName();
  const write = sinks.write ?? stdoutWriter;
  const now = sinks.now ?? Date.now;
  return (record) => write(auditLine(record, new Date(now()).toISOString(), service));
}

export interface KeyWatchOptions {
  warnDays: number;
  autoRenew: boolean;
}

/** One client's outcome. */
export interface WatchedClient {
  client: string;
  client_id: string;
  ok: boolean;
  signing_days_left?: number;
  renewed?: boolean;
  error?: string;
}

const messageOf = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : "unknown error";

export class KeyWatch {
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly audit: AuditWrite;

  constructor(
    private readonly lifecycles: readonly KeyLifecycle[],
    private readonly options: KeyWatchOptions,
    sinks: KeyWatchSinks = {},
  ) {
    const service = sinks.service ?? serviceName();
    this.logger = sinks.logger ?? new Logger({ serviceName: service });
    this.metrics = sinks.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service });
    this.audit = auditWriter({ ...sinks, service });
  }

  /** The watch of every configured client; each admin token it mints is audited. */
  static async fromConfig(
    config: KeyConfig,
    deps: KeySetupDeps = {},
    sinks: KeyWatchSinks = {},
  ): Promise<KeyWatch> {
    const onAdminToken: (record: AdminTokenRecord) => void = auditWriter({
      ...sinks,
      now: deps.now ?? sinks.now,
    });
    const lifecycles = await createKeyLifecycles(config, { ...deps, onAdminToken });
    return new KeyWatch(lifecycles, config.keys, sinks);
  }

  /** Watches every client; throws KeyWatchFailed (after reporting the rest) when any could not be read or renewed. */
  async run(): Promise<WatchedClient[]> {
    const results: WatchedClient[] = [];
    for (const lifecycle of this.lifecycles) results.push(await this.watch(lifecycle));
    const failed = results.filter((r) => r.error !== undefined);
    if (failed.length > 0) {
      throw new KeyWatchFailed(`key watch failed for ${failed.map((r) => r.client).join(", ")}`);
    }
    return results;
  }

  private async watch(lifecycle: KeyLifecycle): Promise<WatchedClient> {
    const { name, clientId } = lifecycle.client;
    const base = { client: name, client_id: clientId };
    let status: KeyStatus;
    try {
      status = await lifecycle.status();
    } catch (error) {
      return this.failed(base, "key_watch_failed", error);
    }
    let renewed = false;
    if (!status.ok && status.registered && this.options.autoRenew) {
      try {
        const renewal = await lifecycle.renew();
        const before = renewal.before.report.keys.find((k) => k.signing);
        const after = renewal.after.report.keys.find((k) => k.signing);
        // An audit record: who changed the registration, which key, from and to which expiry.
        this.audit({
          event: "key_renewed",
          ...base,
          kid: renewal.kid,
          trigger: "key_watch",
          previous_expires_at: before?.expires_at ?? null,
          expires_at: after?.expires_at ?? null,
        });
        status = renewal.after;
        renewed = true;
      } catch (error) {
        this.publish(name, status);
        return this.failed(base, "key_renew_failed", error);
      }
    }
    this.publish(name, status);
    const record = {
      ...base,
      ...status.report,
      ok: status.ok,
      warn_days: this.options.warnDays,
      reason: status.reason,
    };
    if (status.ok) this.logger.info("key_status", record);
    else this.logger.warn("key_status", record);
    return {
      ...base,
      ok: status.ok,
      signing_days_left: status.signingDaysLeft,
      ...(renewed ? { renewed } : {}),
    };
  }

  /** RegisteredKeyDaysLeft per Client and Kid; SigningKeyDaysLeft per Client (0 when not registered), as the alarm needs it. */
  private publish(client: string, status: KeyStatus): void {
    for (const key of status.report.keys) {
      if (key.days_left === null) continue;
      this.metrics.addDimensions({ Client: client, Kid: key.kid });
      this.metrics.addMetric("RegisteredKeyDaysLeft", MetricUnit.Count, key.days_left);
      this.flush();
    }
    this.metrics.addDimensions({ Client: client });
    this.metrics.addMetric("SigningKeyDaysLeft", MetricUnit.Count, status.signingDaysLeft);
    this.flush();
  }

  /** One EMF document, at the audit lines' level: Lambda's log-level filter reads no level as INFO. */
  private flush(): void {
    this.metrics.addMetadata("level", AUDIT_LEVEL);
    this.metrics.publishStoredMetrics();
  }

  private failed(base: { client: string; client_id: string }, event: string, error: unknown): WatchedClient {
    this.logger.error(event, { ...base, error: messageOf(error) });
    this.metrics.addDimensions({ Client: base.client });
    this.metrics.addMetric("KeyWatchErrors", MetricUnit.Count, 1);
    this.flush();
    return { ...base, ok: false, error: messageOf(error) };
  }
}
