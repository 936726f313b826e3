// osls plugin: puts the API stage, its throttling and its access log into the CloudFormation template,
// narrows the function role's log permissions to this stage's own log groups, and refuses `deploy`
// while serverless.yml placeholders are still in the compiled template.
//
// osls applies `provider.logs.restApi` with SDK calls after the stack update, invisible in the
// template and without any throttling option; a reviewer (and test/deploy) should see both here.

const STAGE_ID = "ApiGatewayStage";
const LOG_GROUP_ID = "ApiGatewayAccessLogGroup";

const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  extendedRequestId: "$context.extendedRequestId",
  requestTime: "$context.requestTime",
  httpMethod: "$context.httpMethod",
  resourcePath: "$context.resourcePath",
  status: "$context.status",
  responseLength: "$context.responseLength",
  integrationLatency: "$context.integrationLatency",
  sourceIp: "$context.identity.sourceIp",
  vpceId: "$context.identity.vpceId",
  caller: "$context.identity.caller",
  userArn: "$context.identity.userArn",
  accountId: "$context.identity.accountId",
  error: "$context.error.message",
});

export default class PrivateStagePlugin {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      "after:package:compileEvents": () => {
        this.compileStage();
        this.scopeFunctionLogs();
      },
      "before:deploy:deploy": () => this.refusePlaceholders(),
    };
  }

  get settings() {
    return this.serverless.service.custom?.privateStage ?? {};
  }

  compileStage() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const resources = template.Resources;
    const deploymentId = Object.keys(resources).find(
      (id) => resources[id].Type === "AWS::ApiGateway::Deployment",
    );
    if (deploymentId === undefined) throw new Error("osls-private-stage: no API Gateway deployment to stage");
    const deployment = resources[deploymentId];
    const stageName = deployment.Properties.StageName;
    delete deployment.Properties.StageName;
    const { rateLimit, burstLimit } = this.settings.throttle ?? {};
    resources[LOG_GROUP_ID] = {
      Type: "AWS::Logs::LogGroup",
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: {
        LogGroupName: `/aws/api-gateway/${this.serverless.service.service}-${stageName}`,
        RetentionInDays: Number(this.settings.logRetentionInDays ?? 365),
      },
    };
    resources[STAGE_ID] = {
      Type: "AWS::ApiGateway::Stage",
      Properties: {
        RestApiId: deployment.Properties.RestApiId,
        DeploymentId: { Ref: deploymentId },
        StageName: stageName,
        AccessLogSetting: {
          DestinationArn: { "Fn::GetAtt": [LOG_GROUP_ID, "Arn"] },
          Format: ACCESS_LOG_FORMAT,
        },
        MethodSettings: [
          {
            HttpMethod: "*",
            ResourcePath: "/*",
            ThrottlingRateLimit: Number(rateLimit ?? 50),
            ThrottlingBurstLimit: Number(burstLimit ?? 100),
            MetricsEnabled: true,
            DataTraceEnabled: false,
            LoggingLevel: "OFF",
          },
        ],
      },
    };
  }

  /**
   * osls grants logs:CreateLogStream/CreateLogGroup/TagResource/PutLogEvents on
   * `log-group:/aws/lambda/<service>-<stage>*`, a prefix that also matches another stage starting with
   * the same name (`dev` and `dev2`). The stack creates every function's log group itself, so the role
   * needs only CreateLogStream and PutLogEvents, on exactly those groups: a LogGroup's `Arn` attribute
   * is `arn:...:log-group:<exact name>:*`, i.e. the group's log streams and nothing else.
   */
  scopeFunctionLogs() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const naming = this.serverless.getProvider("aws").naming;
    const role = resources[naming.getRoleLogicalId()];
    if (role === undefined) return;
    const service = this.serverless.service;
    const groupIds = service
      .getAllFunctions()
      .filter((name) => service.getFunction(name).disableLogs !== true)
      .map((name) => naming.getLogGroupLogicalId(name));
    for (const id of groupIds) {
      if (resources[id]?.Type !== "AWS::Logs::LogGroup") {
        throw new Error(`osls-private-stage: no log group ${id} in the template to scope the role to`);
      }
    }
    const isOslsLogStatement = (statement) =>
      statement.Effect === "Allow" &&
      [statement.Action].flat().every((action) => action.startsWith("logs:")) &&
      JSON.stringify(statement.Resource).includes(":log-group:/aws/lambda/");
    for (const policy of role.Properties.Policies) {
      const statements = policy.PolicyDocument.Statement;
      if (!statements.some(isOslsLogStatement)) continue;
      policy.PolicyDocument.Statement = [
        {
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: groupIds.map((id) => ({ "Fn::GetAtt": [id, "Arn"] })),
        },
        ...statements.filter((statement) => !isOslsLogStatement(statement)),
      ];
    }
  }

  refusePlaceholders() {
    const compiled = JSON.stringify(this.serverless.service.provider.compiledCloudFormationTemplate);
    const left = (this.settings.refuseDeployWith ?? []).filter((value) => compiled.includes(value));
    if (left.length > 0) {
      throw new this.serverless.classes.Error(
        `Refusing to deploy with placeholder parameter values still in the template: ${left.join(", ")}. ` +
          "Set them per stage in serverless.yml params or with --param (docs/deployment.md, Parameters).",
      );
    }
  }
}
