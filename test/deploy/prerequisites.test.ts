// infra/prerequisites.yml hands the alarms what they need: its outputs are alarms.yml's parameters, values included.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deployTemplate } from "./deploy-stack.ts";
import { REPO_ROOT } from "./package-service.ts";

const infra = (file: string) => readFileSync(join(REPO_ROOT, "infra", file), "utf8");
const prerequisites = infra("prerequisites.yml");

/** alarms.yml's parameters with the AllowedPattern each one has (undefined where it has none). */
function alarmParameters(): Map<string, RegExp | undefined> {
  const text = infra("alarms.yml");
  const section = text.slice(text.indexOf("\nParameters:\n"), text.indexOf("\nResources:\n"));
  const parameters = new Map<string, RegExp | undefined>();
  for (const block of section.split(/\n(?= {2}\w+:\n)/).slice(1)) {
    const name = /^ {2}(\w+):/.exec(block)?.[1];
    const pattern = /^ {4}AllowedPattern: "(.*)"$/m.exec(block)?.[1];
    if (name !== undefined) parameters.set(name, pattern === undefined ? undefined : new RegExp(pattern));
  }
  return parameters;
}

const physicalId = (stack: Awaited<ReturnType<typeof deployTemplate>>, id: string) =>
  stack.resources.find((r) => r.LogicalResourceId === id)?.PhysicalResourceId;

describe("infra/prerequisites.yml", () => {
  it("outputs the topic and the trail's log group it created, as alarms.yml takes them", async () => {
    // Names of their own: infra.test.ts deploys the defaults into the same moto.
    const stack = await deployTemplate(prerequisites, "broker-prerequisites-outputs", {
      AlarmTopicName: "outputs-alarms",
      TrailName: "outputs-trail",
    });
    expect(stack.status).toBe("CREATE_COMPLETE");
    const topicArn = stack.outputs.AlarmTopicArn;
    const logGroup = stack.outputs.CloudTrailLogGroupName;
    expect(topicArn).toBe(physicalId(stack, "AlarmTopic"));
    expect(topicArn).toMatch(/:sns:eu-north-1:\d{12}:outputs-alarms$/);
    expect(logGroup).toBe("/aws/cloudtrail/outputs-trail");
    expect(physicalId(stack, "TrailLogGroup")).toBe(logGroup);
    expect(stack.outputs.TrailBucketName).toBe(physicalId(stack, "TrailBucket"));

    const alarms = alarmParameters();
    for (const [name, value] of [
      ["AlarmTopicArn", topicArn],
      ["CloudTrailLogGroupName", logGroup],
    ] as const) {
      expect(alarms.has(name), `alarms.yml has no parameter ${name}`).toBe(true);
      const pattern = alarms.get(name);
      expect(pattern, `alarms.yml's ${name} has an AllowedPattern`).toBeDefined();
      expect(value ?? "").toMatch(pattern ?? /^$/);
    }
  });

  it("creates no trail, bucket or log group beside an existing trail, and passes its log group on", async () => {
    const stack = await deployTemplate(prerequisites, "broker-prerequisites-existing-trail", {
      AlarmTopicName: "existing-trail-alarms",
      ExistingTrailLogGroupName: "aws-controltower/CloudTrailLogs",
    });
    expect(stack.status).toBe("CREATE_COMPLETE");
    expect(stack.outputs.CloudTrailLogGroupName).toBe("aws-controltower/CloudTrailLogs");
    expect(stack.outputs.TrailBucketName).toBeUndefined();
    const created = stack.resources.flatMap((r) => (r.LogicalResourceId ? [r.LogicalResourceId] : []));
    expect(created).toEqual(["AlarmTopic"]);
  });
});
