// The API stage as template resources: its throttling and its JSON access log, which a reviewer can read there.
// osls applies `provider.logs.restApi` with SDK calls after the stack update, invisible in the template and
// without any throttling option; a reviewer (and test/deploy) should see both here.
// @ts-check
/** @import { PrivateStageSettings, Resources } from "./types.ts" */

const STAGE_ID = "ApiGatewayStage";
const LOG_GROUP_ID = "ApiGatewayAccessLogGroup";

/**
 * One JSON object per request. `$context.error.messageString` is API Gateway's error message already
 * quoted and escaped (`"Forbidden"`), so it goes in without quotes of our own: a message containing `"`
 * can never break the line. Every other value is an id, number or ARN API Gateway writes without quotes.
 */
const ERROR_PLACEHOLDER = "@@messageString@@";
export const ACCESS_LOG_FORMAT = JSON.stringify({
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
  error: ERROR_PLACEHOLDER,
}).replace(`"${ERROR_PLACEHOLDER}"`, "$context.error.messageString");

/**
 * Moves the stage out of osls' deployment into a Stage of its own, with throttling and an access log group
 * named after the service and stage (`/aws/api-gateway/<service>-<stage>`).
 * @param {Resources} resources
 * @param {string | undefined} service
 * @param {PrivateStageSettings} settings
 */
export function compileStage(resources, service, settings) {
  const deploymentId = Object.keys(resources).find(
    (id) => resources[id]?.Type === "AWS::ApiGateway::Deployment",
  );
  const deployment = deploymentId === undefined ? undefined : resources[deploymentId]?.Properties;
  if (deploymentId === undefined || deployment === undefined) {
    throw new Error("osls-private-stage: no API Gateway deployment to stage");
  }
  const stageName = String(deployment.StageName);
  delete deployment.StageName;
  const { rateLimit, burstLimit } = settings.throttle ?? {};
  resources[LOG_GROUP_ID] = {
    Type: "AWS::Logs::LogGroup",
    DeletionPolicy: "Retain",
    UpdateReplacePolicy: "Retain",
    Properties: {
      LogGroupName: `/aws/api-gateway/${service}-${stageName}`,
      RetentionInDays: Number(settings.logRetentionInDays ?? 365),
    },
  };
  resources[STAGE_ID] = {
    Type: "AWS::ApiGateway::Stage",
    Properties: {
      RestApiId: deployment.RestApiId,
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
