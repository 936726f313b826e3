// The names a CloudFormation template gives what it creates, worked out for one set of parameters.
// Two stacks in one account and region cannot both create a role, an alias or an alarm of the same name.

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface Template {
  Parameters?: Record<string, { Type: string; Default?: Json }>;
  Conditions?: Record<string, Json>;
  Resources: Record<string, { Type: string; Properties?: Record<string, Json> }>;
}

/** The property of each resource type that names it uniquely in an account and region. */
export const NAME_PROPERTY: Record<string, string> = {
  "AWS::ApiGateway::RestApi": "Name",
  "AWS::CloudTrail::Trail": "TrailName",
  "AWS::CloudWatch::Alarm": "AlarmName",
  "AWS::CloudWatch::CompositeAlarm": "AlarmName",
  "AWS::CloudWatch::Dashboard": "DashboardName",
  "AWS::Events::Rule": "Name",
  "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
  "AWS::IAM::Role": "RoleName",
  "AWS::KMS::Alias": "AliasName",
  "AWS::Lambda::Function": "FunctionName",
  "AWS::Logs::LogGroup": "LogGroupName",
  "AWS::Logs::MetricFilter": "FilterName",
  "AWS::Logs::QueryDefinition": "Name",
  "AWS::Organizations::Policy": "Name",
  "AWS::S3::Bucket": "BucketName",
  "AWS::SNS::Topic": "TopicName",
};

/**
 * Types that create nothing with a name of their own: they hang off a named resource, or CloudFormation names them
 * from the stack (a stack name carries the stage).
 */
export const UNNAMED_TYPES = new Set([
  "AWS::ApiGateway::Deployment",
  "AWS::ApiGateway::Method",
  "AWS::ApiGateway::Resource",
  "AWS::ApiGateway::Stage",
  "AWS::KMS::Key",
  "AWS::Lambda::Permission",
  "AWS::Lambda::Version",
  "AWS::S3::BucketPolicy",
]);

const PSEUDO: Record<string, string> = {
  "AWS::AccountId": "111122223333",
  "AWS::Partition": "aws",
  "AWS::Region": "eu-north-1",
  "AWS::URLSuffix": "amazonaws.com",
};

const isObject = (node: Json): node is { [key: string]: Json } =>
  typeof node === "object" && node !== null && !Array.isArray(node);

/** Evaluates Ref, Fn::Sub, Fn::Join, Fn::If and the condition functions; a resource's Ref stays `<Ref Id>`. */
export function evaluator(template: Template, parameters: Record<string, string>) {
  const value = (name: string): Json => {
    if (name in PSEUDO) return PSEUDO[name] ?? "";
    const declared = template.Parameters?.[name];
    if (declared === undefined) return `<Ref ${name}>`;
    const given = parameters[name] ?? declared.Default;
    if (given === undefined) throw new Error(`parameter ${name} has no value and no default`);
    return declared.Type === "CommaDelimitedList" ? String(given).split(",") : String(given);
  };
  const condition = (name: string): boolean => evaluate(template.Conditions?.[name] ?? null) === true;
  const evaluate = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(evaluate);
    if (!isObject(node)) return node;
    const keys = Object.keys(node);
    const fn = keys.length === 1 ? keys[0] : undefined;
    const arg = node[fn ?? ""] ?? null;
    switch (fn) {
      case "Ref":
        return value(String(arg));
      case "Condition":
        return condition(String(arg));
      case "Fn::Sub": {
        const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
        const local = isObject(vars ?? null) ? (vars as Record<string, Json>) : {};
        return String(text).replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
          const bound = name in local ? evaluate(local[name] ?? null) : value(name);
          return Array.isArray(bound) ? bound.join(",") : String(bound);
        });
      }
      case "Fn::Join": {
        const [separator, items] = arg as [string, Json];
        return [evaluate(items)].flat().map(String).join(separator);
      }
      case "Fn::Split": {
        const [separator, text] = arg as [string, Json];
        return String(evaluate(text)).split(separator);
      }
      case "Fn::If": {
        const [name, then, otherwise] = arg as [string, Json, Json];
        return evaluate(condition(name) ? then : otherwise);
      }
      case "Fn::Equals": {
        const [left, right] = (arg as Json[]).map(evaluate);
        return JSON.stringify(left) === JSON.stringify(right);
      }
      case "Fn::Not":
        return !(evaluate((arg as Json[])[0] ?? null) === true);
      case "Fn::And":
        return (arg as Json[]).every((item) => evaluate(item) === true);
      case "Fn::Or":
        return (arg as Json[]).some((item) => evaluate(item) === true);
      default:
        return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, evaluate(item)]));
    }
  };
  return evaluate;
}

/**
 * `<type> <name>` of every uniquely named resource, and `metric <namespace> <name>` of every metric a metric filter
 * writes (two filters writing one metric add up: one stage's alarm would count the other's events). Throws on a
 * resource type that is neither named nor known to be unnamed, so a new type must be placed in one of the lists.
 */
export function physicalNames(template: Template, parameters: Record<string, string>): string[] {
  const evaluate = evaluator(template, parameters);
  const names: string[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    const property = NAME_PROPERTY[resource.Type];
    if (property === undefined && !UNNAMED_TYPES.has(resource.Type)) {
      throw new Error(`${id}: add ${resource.Type} to NAME_PROPERTY or UNNAMED_TYPES`);
    }
    const name = property === undefined ? undefined : resource.Properties?.[property];
    if (name !== undefined) names.push(`${resource.Type} ${String(evaluate(name))}`);
    if (resource.Type === "AWS::Logs::MetricFilter") {
      const transformations = evaluate(resource.Properties?.MetricTransformations ?? []) as {
        MetricNamespace: string;
        MetricName: string;
      }[];
      for (const metric of transformations)
        names.push(`metric ${metric.MetricNamespace} ${metric.MetricName}`);
    }
  }
  return names;
}
