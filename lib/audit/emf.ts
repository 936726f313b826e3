// One CloudWatch embedded-metric-format (EMF) document as one JSON line: the TokenBroker metrics of one record,
// laid out as Powertools Metrics lays them out (same namespace, dimension sets, units, arrays for repeats).

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
 * `{"_aws":{"Timestamp":…,"CloudWatchMetrics":[{"Namespace":…,"Dimensions":[["service"],…],"Metrics":[…]}]},
 * "service":…,["Client":…,]<name>:<value or values>}` with its newline. With a client, two dimension sets: per
 * service (what the alarms watch) and per service and client. A metric named twice gets an array of values.
 */
export function emfLine(
  target: EmfTarget,
  timestampMs: number,
  metrics: readonly MetricValue[],
  client: string | null,
): string {
  const values = new Map<string, number | number[]>();
  const definitions: { Name: string; Unit: MetricUnit }[] = [];
  for (const metric of metrics) {
    const seen = values.get(metric.name);
    if (seen === undefined) {
      values.set(metric.name, metric.value);
      definitions.push({ Name: metric.name, Unit: metric.unit });
    } else if (Array.isArray(seen)) seen.push(metric.value);
    else values.set(metric.name, [seen, metric.value]);
  }
  const document: Record<string, unknown> = {
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
    ...(client === null ? {} : { Client: client }),
  };
  for (const [name, value] of values) document[name] = value;
  return `${JSON.stringify(document)}\n`;
}
