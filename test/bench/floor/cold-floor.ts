// The cold-start floor: a bare middy handler that reads the PEM key at import, then signs one RS256 grant with
// node:crypto and posts it with node:http. No validation, policy, cache, audit or metrics: what a token costs at least.
import { createPrivateKey, randomUUID, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import middy from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const keyPath = env("SIGNING_KEY").replace(/^file:/, "");
const key = createPrivateKey(readFileSync(keyPath, "utf8"));
const kid = env("SIGNING_KID");
const issuer = env("MASKINPORTEN_ISSUER");
const clientId = env("MASKINPORTEN_CLIENT_ID");
const tokenUrl = new URL(env("MASKINPORTEN_TOKEN_URL"));

// process.getBuiltinModule, not `import { request } from "node:http"`: an ES import of node:http reads all of its
// exports, and one of them loads undici (~45 ms); the floor is the least a token can cost, so it does not pay that.
const { request } = process.getBuiltinModule("node:http");

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function grant(scope: string): string {
  const iat = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: "RS256", kid })}.${b64({ aud: issuer, iss: clientId, scope, iat, exp: iat + 30, jti: randomUUID() })}`;
  return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
}

function post(body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      tokenUrl,
      {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve(text));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>().handler(async (event) => {
  const { scope } = JSON.parse(event.body ?? "{}") as { scope: string };
  const form = new URLSearchParams({
    grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
    assertion: grant(scope),
  });
  return {
    statusCode: 200,
    headers: { "Content-Type": "application/json" },
    body: await post(form.toString()),
  };
});
