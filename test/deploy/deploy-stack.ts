// Deploys a packaged service the way `sls deploy` does: create the stack from the create template (the deployment
// bucket), upload the zips and the compiled template to the artifact directory, update the stack from that template.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type Stack,
  type StackResourceSummary,
  UpdateStackCommand,
} from "@aws-sdk/client-cloudformation";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

// What osls asks for: the roles have names (TokenRole, ...), hence CAPABILITY_NAMED_IAM.
const CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"] as const;

export interface DeployedStack {
  status: string | undefined;
  resources: StackResourceSummary[];
  /** The stack's outputs by key. */
  outputs: Record<string, string | undefined>;
}

export interface DeployOptions {
  /** Upload the function zips (false: only the template, to prove a missing artifact fails the update). */
  uploadZips?: boolean;
}

const cloudFormation = () => new CloudFormationClient({});
const s3 = () => new S3Client({ forcePathStyle: true });

/** `sls deploy` of the `.serverless/` directory `output`, as stack `stackName`, in the account of the clients. */
export async function deployLikeSls(
  output: string,
  stackName: string,
  { uploadZips = true }: DeployOptions = {},
): Promise<DeployedStack> {
  const cfn = cloudFormation();
  await cfn.send(
    new CreateStackCommand({
      StackName: stackName,
      TemplateBody: readFileSync(join(output, "cloudformation-template-create-stack.json"), "utf8"),
      Capabilities: [...CAPABILITIES],
    }),
  );
  const created = await describe(cfn, stackName);
  const bucket = created.Outputs?.find((o) => o.OutputKey === "ServerlessDeploymentBucketName")?.OutputValue;
  if (bucket === undefined) throw new Error(`stack ${stackName}: no ServerlessDeploymentBucketName output`);

  const state = JSON.parse(readFileSync(join(output, "serverless-state.json"), "utf8")) as {
    package: { artifactDirectoryName: string };
  };
  const directory = state.package.artifactDirectoryName;
  const client = s3();
  const files = [
    ...(uploadZips ? readdirSync(output).filter((file) => file.endsWith(".zip")) : []),
    "cloudformation-template-update-stack.json",
  ];
  for (const file of files) {
    const key =
      file === "cloudformation-template-update-stack.json" ? "compiled-cloudformation-template.json" : file;
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${directory}/${key}`,
        Body: readFileSync(join(output, file)),
      }),
    );
  }
  // osls' TemplateURL (lib/plugins/aws/lib/get-shared-stack-action-params.js): the S3 URL of the compiled template.
  const region = await cfn.config.region();
  await cfn.send(
    new UpdateStackCommand({
      StackName: stackName,
      TemplateURL: `https://s3.${region}.amazonaws.com/${bucket}/${directory}/compiled-cloudformation-template.json`,
      Capabilities: [...CAPABILITIES],
    }),
  );
  return summary(cfn, stackName);
}

/** Creates a stack from one template body (an infra/*.yml) with `parameters`. */
export async function deployTemplate(
  body: string,
  stackName: string,
  parameters: Record<string, string>,
): Promise<DeployedStack> {
  const cfn = cloudFormation();
  await cfn.send(
    new CreateStackCommand({
      StackName: stackName,
      TemplateBody: body,
      Parameters: Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({
        ParameterKey,
        ParameterValue,
      })),
      Capabilities: [...CAPABILITIES],
    }),
  );
  return summary(cfn, stackName);
}

async function summary(cfn: CloudFormationClient, stackName: string): Promise<DeployedStack> {
  const stack = await describe(cfn, stackName);
  return {
    status: stack.StackStatus,
    resources: await listResources(cfn, stackName),
    outputs: Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? "", o.OutputValue])),
  };
}

async function describe(cfn: CloudFormationClient, stackName: string): Promise<Stack> {
  const stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  if (stack === undefined) throw new Error(`stack ${stackName} not found`);
  return stack;
}

async function listResources(cfn: CloudFormationClient, stackName: string): Promise<StackResourceSummary[]> {
  const resources: StackResourceSummary[] = [];
  let NextToken: string | undefined;
  do {
    const page = await cfn.send(new ListStackResourcesCommand({ StackName: stackName, NextToken }));
    resources.push(...(page.StackResourceSummaries ?? []));
    NextToken = page.NextToken;
  } while (NextToken !== undefined);
  return resources;
}
