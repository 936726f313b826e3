// The cache-hit floor: a bare middy handler (defaults, no middleware) answering every event with a fixed JSON body.
import middy from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";

const body = JSON.stringify({
  access_token: "x".repeat(1000),
  token_type: "Bearer",
  expires_in: 100,
  scope: "s",
});

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>().handler(async () => ({
  statusCode: 200,
  headers: { "Content-Type": "application/json" },
  body,
}));
