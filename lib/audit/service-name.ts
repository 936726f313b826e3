// The `service` every audit line, diagnostic line and TokenBroker metric carries: POWERTOOLS_SERVICE_NAME, which
// serverless.yml sets to the stack's name (maskinporten-broker-<stage>), so two stages in one account never share
// a metric or an alarm.
import * as v from "valibot";

/** What a broker run outside a deployment (`npm start`, tests) calls itself. */
export const DEFAULT_SERVICE_NAME = "maskinporten-broker";

// CloudWatch takes a dimension value of 1 to 1024 characters; a blank or unset variable means the default.
const ServiceName = v.pipe(
  v.optional(v.string(), ""),
  v.trim(),
  v.transform((name) => (name === "" ? DEFAULT_SERVICE_NAME : name)),
  v.maxLength(1024),
);

/**
 * POWERTOOLS_SERVICE_NAME trimmed, or the default when it is unset or blank. Read where a sink is built (once per
 * cold start); an over-long value is the default too, as a metric under it would be dropped.
 */
export function serviceName(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const read = v.safeParse(ServiceName, env.POWERTOOLS_SERVICE_NAME);
  return read.success ? read.output : DEFAULT_SERVICE_NAME;
}
