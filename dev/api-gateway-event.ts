// Builds the API Gateway REST (v1) proxy event and Lambda context that the deployed function receives.
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";

/** The IAM identity API Gateway's aws_iam authorizer puts in requestContext.identity. */
export interface CallerIdentity {
  accessKey: string;
  accountId: string;
  /** e.g. "AROAEXAMPLE:session" for a role session, or the user id. */
  caller: string;
  userArn: string;
}

export interface HttpRequestParts {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The route's resource path, e.g. "/token". */
  resource: string;
  query: URLSearchParams;
  headers: Readonly<Record<string, string>>;
  body: string | null;
  sourceIp: string;
  identity: CallerIdentity | null;
  vpceId?: string;
  stage?: string;
}

function multiValue(query: URLSearchParams): Record<string, string[]> | null {
  const out: Record<string, string[]> = {};
  for (const k of new Set(query.keys())) out[k] = query.getAll(k);
  return Object.keys(out).length === 0 ? null : out;
}

export function apiGatewayEvent(parts: HttpRequestParts): APIGatewayProxyEvent {
  const multiQuery = multiValue(parts.query);
  const stage = parts.stage ?? "local";
  const identity = parts.identity;
  return {
    resource: parts.resource,
    path: parts.path,
    httpMethod: parts.method,
    headers: { ...parts.headers },
    multiValueHeaders: Object.fromEntries(Object.entries(parts.headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: multiQuery === null ? null : Object.fromEntries(parts.query),
    multiValueQueryStringParameters: multiQuery,
    pathParameters: null,
    stageVariables: null,
    body: parts.body,
    isBase64Encoded: false,
    requestContext: {
      accountId: identity?.accountId ?? "000000000000",
      apiId: "local",
      authorizer: null,
      protocol: "HTTP/1.1",
      httpMethod: parts.method,
      path: `/${stage}${parts.path}`,
      stage,
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: "local",
      resourcePath: parts.resource,
      identity: {
        accessKey: identity?.accessKey ?? null,
        accountId: identity?.accountId ?? null,
        apiKey: null,
        apiKeyId: null,
        caller: identity?.caller ?? null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: parts.sourceIp,
        user: identity?.caller ?? null,
        userAgent: parts.headers["user-agent"] ?? null,
        userArn: identity?.userArn ?? null,
        ...(parts.vpceId === undefined ? {} : { vpceId: parts.vpceId }),
      },
    },
  };
}

/** The functions' timeout in serverless.yml: what a local invocation has left when it starts, as in Lambda. */
export const FUNCTION_TIMEOUT_MS = 28_000;

/** A Lambda context good enough for middy and Powertools outside Lambda; its remaining time runs on the wall clock. */
export function lambdaContext(functionName: string, timeoutMs = FUNCTION_TIMEOUT_MS): Context {
  const deadline = Date.now() + timeoutMs;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: "256",
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
