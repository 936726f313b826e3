// One CloudWatch embedded-metric-format (EMF) document as one JSON line: the TokenBroker metrics of one record,
// laid out as Powertools Metrics lays them out (same namespace, dimension sets, units, arrays for repeats), plus
// the audit line's `level`, so that no application log level of Lambda's drops the metrics the alarms watch.
import { AUDIT_LEVEL } from "./audit-line.ts";

export type MetricUnit = "Count" | "Milliseconds";

export interface MetricValue {
  name: string;
  unit: MetricUnit;
  value: number;
}

export interface EmfTarget {
  namespace: string;
  service: string;
}

/**
 * `{"level":"FATAL","_aws":{"Timestamp":…,"CloudWatchMetrics":[{"Namespace":…,"Dimensions":[["service"],…],"Metrics":[…]}]},
 * "service":…,["Client":…,]<name>:<value or values>}` with its newline. With a client, two dimension sets: per
 * service (what the alarms watch) and per service and client. A metric named twice gets an array of values.
 * Lambda's advanced logging controls read a stdout line without `level` as INFO and drop it at WARN or above;
 * CloudWatch extracts the metrics only from lines it keeps. EMF ignores a member no directive names.
 */
export function emfLine(
  target: EmfTarget,
  timestampMs: number,
  metrics: readonly MetricValue[],
  client: string | null,
): string {
  const definitions: { Name: string; Unit: MetricUnit }[] = [];
  const document: Record<string, unknown> = {
    level: AUDIT_LEVEL,
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: target.namespace,
          Dimensions: client === null ? [["service"]] : [["service"], ["service", "Client"]],
          Metrics: definitions,
        },
      ],
    },
    service: target.service,
  };
  if (client !== null) document.Client = client;
  for (const { name, unit, value } of metrics) {
    const seen = document[name] as number | number[] | undefined;
    if (seen === undefined) {
      definitions.push({ Name: name, Unit: unit });
      document[name] = value;
    } else if (Array.isArray(seen)) seen.push(value);
    else document[name] = [seen, value];
  }
  return `${JSON.stringify(document)}\n`;
}
