// Callers in Python: the documented botocore example gets a token from `npm start`'s broker, and botocore's own
// SigV4 signatures (header and presigned, a repeated header) pass the local gateway's verifier.
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSigV4Verifier } from "../../dev/sigv4.ts";
import { type StartedLocalBroker, startTestLocalBroker } from "../support/local-broker.ts";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const EXAMPLE = join(ROOT, "docs/examples/get_token.py");

/** Why the Python tests cannot run here, or undefined when python3 can import botocore. */
function botocoreMissing(): string | undefined {
  try {
    execFileSync("python3", ["-c", "import botocore"], { stdio: "pipe" });
    return undefined;
  } catch (error) {
    return `python3 with botocore is not available (${error instanceof Error ? error.message.split("\n")[0] : error})`;
  }
}

const missing = botocoreMissing();
if (missing !== undefined)
  console.log(`Skipping the Python caller tests: ${missing}; pip install botocore to run them`);

describe("the Python example in docs/callers.md", () => {
  it("is the file the tests run, word for word", () => {
    const callers = readFileSync(join(ROOT, "docs/callers.md"), "utf8");
    expect(callers).toContain(readFileSync(EXAMPLE, "utf8").trim());
  });
});

describe.skipIf(missing !== undefined)("Python callers (botocore)", () => {
  let local: StartedLocalBroker;
  const region = "eu-north-1";
  const key = { accessKeyId: "AKIAPYTHONTEST000001", secretAccessKey: "p".repeat(40) };

  beforeAll(async () => {
    local = await startTestLocalBroker();
  }, 60_000);

  afterAll(() => local?.stop());

  it("gets a token from a running broker with the documented example", async () => {
    const { credential, broker } = local;
    const env = {
      PATH: process.env.PATH,
      HOME: "/nonexistent",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      TOKEN_BROKER_URL: broker.url,
      AWS_REGION: broker.region,
      AWS_ACCESS_KEY_ID: credential.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credential.secretAccessKey,
    };
    const { stdout } = await run("python3", [EXAMPLE, "skatteetaten:mva"], { env });
    expect(JSON.parse(stdout)).toMatchObject({ token_type: "Bearer", scope: "skatteetaten:mva" });
  });

  it("raises the broker's problem code for a scope the policy does not allow", async () => {
    const { credential, broker } = local;
    const script = [
      "import sys; sys.path.insert(0, sys.argv[1])",
      "from get_token import get_token, TokenBrokerError",
      "try:",
      "    get_token(sys.argv[2], sys.argv[3], 'not:allowed')",
      "except TokenBrokerError as e:",
      "    print(e.status, e.code)",
    ].join("\n");
    const env = {
      PATH: process.env.PATH,
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_ACCESS_KEY_ID: credential.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credential.secretAccessKey,
    };
    const { stdout } = await run(
      "python3",
      ["-c", script, join(ROOT, "docs/examples"), broker.url, broker.region],
      {
        env,
      },
    );
    expect(stdout.trim()).toBe("403 access_denied");
  });

  /** A request signed by botocore (SigV4Auth, or SigV4QueryAuth for a presigned URL), as the gateway receives it. */
  async function botocoreSigned(presign: boolean, sessionToken?: string) {
    const script = `
import json, sys
from urllib.parse import urlsplit
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
key, secret, token, region, presign = sys.argv[1:6]
# A presigned URL carries no body (botocore would move one into the query): GET, as a browser or curl would.
if presign == "1":
    request = AWSRequest("GET", "https://abc.execute-api.eu-north-1.amazonaws.com/health?b=2&a=1")
else:
    request = AWSRequest("POST", "https://abc.execute-api.eu-north-1.amazonaws.com/token?b=2&a=1",
                         data=b'{"scope":"skatteetaten:mva"}', headers={"Content-Type": "application/json"})
request.headers["X-Repeated"] = "first"
request.headers["X-Repeated"] = "  second  value "
credentials = Credentials(key, secret, token or None)
signer = SigV4QueryAuth(credentials, "execute-api", region, expires=60) if presign == "1" else SigV4Auth(credentials, "execute-api", region)
signer.add_auth(request)
url = urlsplit(request.url)
headers = {}
for name, value in request.headers.items():
    headers.setdefault(name.lower(), []).append(value)
headers.setdefault("host", [url.netloc])
body = request.data or b""
print(json.dumps({"method": request.method, "path": url.path, "query": url.query, "headers": headers,
                  "body": body if isinstance(body, str) else body.decode()}))
`;
    const args = [key.accessKeyId, key.secretAccessKey, sessionToken ?? "", region, presign ? "1" : "0"];
    const { stdout } = await run("python3", ["-c", script, ...args]);
    const signed = JSON.parse(stdout);
    return {
      method: signed.method as string,
      path: signed.path,
      rawQuery: signed.query,
      headers: signed.headers as Record<string, string[]>,
      body: Buffer.from(signed.body),
    };
  }

  const verifier = (sessionToken?: string) =>
    createSigV4Verifier({
      region,
      lookup: (id) =>
        id === key.accessKeyId
          ? {
              secretAccessKey: key.secretAccessKey,
              principalArn: "arn:aws:iam::000000000000:role/python",
              ...(sessionToken === undefined ? {} : { sessionToken }),
            }
          : undefined,
    });

  it("accepts botocore's SigV4Auth signature, a repeated header included", async () => {
    const request = await botocoreSigned(false);
    expect(request.headers["x-repeated"]).toHaveLength(2);
    expect(verifier()(request)).toMatchObject({ ok: true, identity: { accountId: "000000000000" } });
  });

  it("accepts botocore's presigned URL (SigV4QueryAuth), and refuses it once a parameter changes", async () => {
    const request = await botocoreSigned(true);
    expect(request.rawQuery).toContain("X-Amz-Signature=");
    expect(request.headers.authorization).toBeUndefined();
    expect(verifier()(request)).toMatchObject({ ok: true });
    expect(verifier()({ ...request, rawQuery: request.rawQuery.replace("a=1", "a=3") })).toMatchObject({
      ok: false,
    });
  });

  it("accepts botocore's signature with session credentials, header and presigned", async () => {
    expect(verifier("py-session")(await botocoreSigned(false, "py-session"))).toMatchObject({ ok: true });
    expect(verifier("py-session")(await botocoreSigned(true, "py-session"))).toMatchObject({ ok: true });
  });
});
