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

/** The parts of a document that depend only on which metrics it has and the client: made once per such shape. */
interface Shape {
  /** `"CloudWatchMetrics":[…]},"service":…[,"Client":…]` */
  middle: string;
  /** The metric names in document order, each with how many values it has and its `,"Name":` text. */
  names: { name: string; count: number; member: string }[];
}

/** Shapes seen (a handful: hit, miss, denied, failed, ... per client); dropped wholesale past a bound. */
const shapes = new Map<string, Shape>();
const MAX_SHAPES = 512;

function shapeOf(target: EmfTarget, metrics: readonly MetricValue[], client: string | null): Shape {
  let key = `${target.namespace}\u0000${target.service}\u0000${client ?? "\u0001"}`;
  for (const metric of metrics) key += `\u0000${metric.name}\u0000${metric.unit}`;
  let shape = shapes.get(key);
  if (shape === undefined) {
    const definitions: { Name: string; Unit: MetricUnit }[] = [];
    const names: Shape["names"] = [];
    for (const metric of metrics) {
      const seen = names.find((n) => n.name === metric.name);
      if (seen !== undefined) seen.count++;
      else {
        names.push({ name: metric.name, count: 1, member: `,${JSON.stringify(metric.name)}:` });
        definitions.push({ Name: metric.name, Unit: metric.unit });
      }
    }
    const cloudWatch = [
      {
        Namespace: target.namespace,
        Dimensions: client === null ? [["service"]] : [["service"], ["service", "Client"]],
        Metrics: definitions,
      },
    ];
    const dimensions = `"service":${JSON.stringify(target.service)}${client === null ? "" : `,"Client":${JSON.stringify(client)}`}`;
    shape = { middle: `"CloudWatchMetrics":${JSON.stringify(cloudWatch)}},${dimensions}`, names };
    if (shapes.size >= MAX_SHAPES) shapes.clear();
    shapes.set(key, shape);
  }
  return shape;
}

/**
 * Lambda's advanced logging controls read a stdout line without `level` as INFO and drop it at WARN or above;
 * CloudWatch extracts the metrics only from lines it keeps. EMF ignores a member no directive names.
 */
const LEVEL_AND_AWS = `{"level":${JSON.stringify(AUDIT_LEVEL)},"_aws":{"Timestamp":`;

/**
 * `{"level":"FATAL","_aws":{"Timestamp":…,"CloudWatchMetrics":[{"Namespace":…,"Dimensions":[["service"],…],"Metrics":[…]}]},
 * "service":…,["Client":…,]<name>:<value or values>}` with its newline. With a client, two dimension sets: per
 * service (what the alarms watch) and per service and client. A metric named twice gets an array of values.
 * What depends only on the metrics' names and the client is serialised once per such shape.
 */
export function emfLine(
  target: EmfTarget,
  timestampMs: number,
  metrics: readonly MetricValue[],
  client: string | null,
): string {
  const shape = shapeOf(target, metrics, client);
  let values = "";
  for (const { name, count, member } of shape.names) {
    const value =
      count === 1
        ? metrics.find((m) => m.name === name)?.value
        : metrics.filter((m) => m.name === name).map((m) => m.value);
    values += `${member}${JSON.stringify(value)}`;
  }
  return `${LEVEL_AND_AWS}${JSON.stringify(timestampMs)},${shape.middle}${values}}\n`;
}
