import { execFile } from "node:child_process";
import { request as httpRequest } from "node:http";
import { promisify } from "node:util";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, type SignedRequest, startGateway } from "../../dev/gateway.ts";
import {
  cachedSigningKeys,
  createSigV4Verifier,
  INVALID_TOKEN,
  type KnownCredential,
  MISSING_TOKEN,
  SIGNATURE_MISMATCH,
  signingKey,
  uriEncode,
} from "../../dev/sigv4.ts";

const REGION = "eu-north-1";
const NOW = Date.parse("2025-06-01T12:00:00Z");
const KEY = { accessKeyId: "AKIALOCALTEST0000001", secretAccessKey: "s".repeat(40) };
const TEMP = {
  accessKeyId: "ASIALOCALTEST0000002",
  secretAccessKey: "t".repeat(40),
  sessionToken: "session-tok",
};
const ROLE = "arn:aws:iam::000000000000:role/local-service";

const known = new Map<string, KnownCredential>([
  [KEY.accessKeyId, { secretAccessKey: KEY.secretAccessKey, principalArn: ROLE }],
  [
    TEMP.accessKeyId,
    { secretAccessKey: TEMP.secretAccessKey, sessionToken: TEMP.sessionToken, principalArn: ROLE },
  ],
]);
const verify = createSigV4Verifier({ region: REGION, lookup: (id) => known.get(id), now: () => NOW });

interface SignInput {
  method?: string;
  /** The path as sent on the wire (already percent-encoded). */
  path?: string;
  query?: Record<string, string>;
  body?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  service?: string;
  region?: string;
  date?: number;
  applyChecksum?: boolean;
}

/** A signed request whose headers each came on one line. */
type Signed = SignedRequest & { headers: Record<string, string> };

/** Signs with @smithy/signature-v4 (the AWS SDK's signer) and returns what the gateway would see. */
async function signed(input: SignInput = {}): Promise<Signed> {
  const body = input.body ?? '{"scope":"skatteetaten:mva"}';
  const signer = new SignatureV4({
    service: input.service ?? "execute-api",
    region: input.region ?? REGION,
    credentials: input.credentials ?? KEY,
    sha256: Sha256,
    applyChecksum: input.applyChecksum ?? true,
  });
  const request = await signer.sign(
    {
      method: input.method ?? "POST",
      protocol: "https:",
      hostname: "abc.execute-api.eu-north-1.amazonaws.com",
      path: input.path ?? "/token",
      query: input.query ?? {},
      headers: { host: "abc.execute-api.eu-north-1.amazonaws.com", "content-type": "application/json" },
      body,
    },
    { signingDate: new Date(input.date ?? NOW) },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  return {
    method: request.method,
    path: request.path,
    rawQuery: Object.entries(input.query ?? {})
      .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
      .join("&"),
    headers,
    body: Buffer.from(body),
  };
}

function refusal(result: ReturnType<typeof verify>): string {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error("unreachable");
  expect(result.status).toBe(403);
  return result.message;
}

describe("SigV4 verification of @smithy/signature-v4 signatures", () => {
  it("accepts a signed POST /token and reports the caller as API Gateway would", async () => {
    const result = verify(await signed());
    expect(result).toEqual({
      ok: true,
      identity: {
        accessKey: KEY.accessKeyId,
        principalArn: ROLE,
        accountId: "000000000000",
        caller: expect.stringMatching(/^AROA[0-9A-F]{17}:local$/),
        userArn: "arn:aws:sts::000000000000:assumed-role/local-service/local",
      },
    });
  });

  it("accepts query strings, which it canonicalises by sorting", async () => {
    expect(verify(await signed({ query: { b: "2", a: "x y/z", é: "ø*" } })).ok).toBe(true);
  });

  it("accepts session credentials carrying their signed X-Amz-Security-Token", async () => {
    const request = await signed({ credentials: TEMP });
    expect(request.headers["x-amz-security-token"]).toBe(TEMP.sessionToken);
    expect(verify(request).ok).toBe(true);
  });

  it("accepts unicode and percent-encoded paths, double-encoded like API Gateway", async () => {
    expect(verify(await signed({ path: "/t%C3%A9st/a%20b/%2A" })).ok).toBe(true);
  });

  it("accepts an empty body, with and without x-amz-content-sha256", async () => {
    expect(verify(await signed({ method: "GET", path: "/health", body: "" })).ok).toBe(true);
    const withoutHash = await signed({ method: "GET", path: "/health", body: "", applyChecksum: false });
    expect(withoutHash.headers["x-amz-content-sha256"]).toBeUndefined();
    expect(verify(withoutHash).ok).toBe(true);
  });

  it("accepts any signed path and query (property)", async () => {
    const segment = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s !== "." && s !== "..");
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }),
        async (segments, query) => {
          const path = `/${segments.map(uriEncode).join("/")}`;
          expect(verify(await signed({ path, query })).ok).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("SigV4 refusals, each a 403 in API Gateway's words", () => {
  it("refuses a request without an Authorization header", async () => {
    const { authorization: _, ...headers } = (await signed()).headers;
    expect(refusal(verify({ ...(await signed()), headers }))).toBe(MISSING_TOKEN);
  });

  it("refuses a signature made with the wrong secret", async () => {
    const request = await signed({ credentials: { ...KEY, secretAccessKey: "w".repeat(40) } });
    expect(refusal(verify(request))).toContain(SIGNATURE_MISMATCH);
  });

  it("refuses a body changed after signing (x-amz-content-sha256 no longer matches)", async () => {
    const request = await signed();
    expect(refusal(verify({ ...request, body: Buffer.from('{"scope":"nav:aareg"}') }))).toContain(
      "x-amz-content-sha256",
    );
  });

  it("refuses a body changed after signing without x-amz-content-sha256", async () => {
    const request = await signed({ applyChecksum: false });
    expect(refusal(verify({ ...request, body: Buffer.from('{"scope":"nav:aareg"}') }))).toContain(
      SIGNATURE_MISMATCH,
    );
  });

  it("refuses a path changed after signing", async () => {
    expect(refusal(verify({ ...(await signed()), path: "/health" }))).toContain(SIGNATURE_MISMATCH);
  });

  it("refuses a query changed after signing", async () => {
    const request = await signed({ query: { a: "1" } });
    expect(refusal(verify({ ...request, rawQuery: "a=2" }))).toContain(SIGNATURE_MISMATCH);
    expect(refusal(verify({ ...request, rawQuery: "a=1&b=2" }))).toContain(SIGNATURE_MISMATCH);
  });

  it("refuses a signed header changed after signing", async () => {
    const request = await signed();
    const headers = { ...request.headers, "content-type": "text/plain" };
    expect(refusal(verify({ ...request, headers }))).toContain(SIGNATURE_MISMATCH);
  });

  it("refuses an X-Amz-Date more than 5 minutes old or ahead", async () => {
    expect(refusal(verify(await signed({ date: NOW - 5 * 60_000 - 1000 })))).toMatch(/^Signature expired: /);
    expect(refusal(verify(await signed({ date: NOW + 5 * 60_000 + 1000 })))).toMatch(
      /^Signature not yet current/,
    );
    expect(verify(await signed({ date: NOW - 4 * 60_000 })).ok).toBe(true);
  });

  it("refuses an unknown access key", async () => {
    const request = await signed({ credentials: { ...KEY, accessKeyId: "AKIAUNKNOWN000000000" } });
    expect(refusal(verify(request))).toBe(INVALID_TOKEN);
  });

  it("refuses a signature scoped to another service", async () => {
    expect(refusal(verify(await signed({ service: "lambda" })))).toBe(
      "Credential should be scoped to correct service: 'execute-api'.",
    );
  });

  it("refuses a signature scoped to another region", async () => {
    expect(refusal(verify(await signed({ region: "us-east-1" })))).toContain("valid region");
  });

  it("refuses session credentials without, or with a wrong, security token", async () => {
    const request = await signed({ credentials: TEMP });
    const { "x-amz-security-token": _, ...withoutToken } = request.headers;
    expect(refusal(verify({ ...request, headers: withoutToken }))).toBe(INVALID_TOKEN);
    const wrong = await signed({ credentials: { ...TEMP, sessionToken: "other" } });
    expect(refusal(verify(wrong))).toBe(INVALID_TOKEN);
  });

  it("refuses a signature that does not sign the host header", async () => {
    const request = await signed();
    const authorization = (request.headers.authorization ?? "").replace("SignedHeaders=", "SignedHeaders=x;");
    const headers = { ...request.headers, authorization: authorization.replace(/;host;/, ";") };
    expect(refusal(verify({ ...request, headers }))).toContain(
      "'Host' or ':authority' must be a 'SignedHeader'",
    );
  });

  it("refuses a credential date that differs from X-Amz-Date's", async () => {
    const request = await signed();
    const headers = { ...request.headers, "x-amz-date": "20250602T120000Z" };
    expect(refusal(verify({ ...request, headers }))).toContain("Date in Credential scope does not match");
  });

  it("refuses a malformed Authorization header", () => {
    const request = { method: "GET", path: "/", rawQuery: "", body: Buffer.alloc(0) };
    expect(refusal(verify({ ...request, headers: { authorization: "Bearer abc" } }))).toContain(
      "Unsupported authorization algorithm",
    );
    expect(refusal(verify({ ...request, headers: { authorization: "AWS4-HMAC-SHA256 Signature=ab" } }))).toBe(
      "Authorization header requires 'Credential' parameter. Authorization header requires 'SignedHeaders' parameter.",
    );
  });
});

describe("SigV4 verification of curl --aws-sigv4 signatures", () => {
  const execFileAsync = promisify(execFile);
  let gateway: RunningGateway;
  let url: string;

  beforeAll(async () => {
    gateway = await startGateway({
      host: "127.0.0.1",
      port: 0,
      authenticate: createSigV4Verifier({ region: REGION, lookup: (id) => known.get(id) }),
      routes: [
        {
          method: "POST",
          resource: "/token",
          functionName: "echo-identity",
          handler: async (event) => ({
            statusCode: 200,
            body: JSON.stringify(event.requestContext.identity),
          }),
        },
      ],
    });
    url = gateway.url;
  });

  afterAll(() => gateway.close());

  async function curl(secret: string, path = "/token"): Promise<{ status: number; body: string }> {
    const { stdout } = await execFileAsync("curl", [
      "--silent",
      "--aws-sigv4",
      `aws:amz:${REGION}:execute-api`,
      "--user",
      `${KEY.accessKeyId}:${secret}`,
      "-H",
      "content-type: application/json",
      "-d",
      '{"scope":"skatteetaten:mva","min_ttl":60}',
      "--write-out",
      "\n%{http_code}",
      `${url}${path}`,
    ]);
    const newline = stdout.lastIndexOf("\n");
    return { status: Number(stdout.slice(newline + 1)), body: stdout.slice(0, newline) };
  }

  it("accepts the real curl binary's signature", async () => {
    const response = await curl(KEY.secretAccessKey);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({
      accessKey: KEY.accessKeyId,
      userArn: "arn:aws:sts::000000000000:assumed-role/local-service/local",
    });
  });

  it("accepts curl's signature with a query string", async () => {
    // Already sorted: curl before 8.1 signs the query as written, which AWS would refuse too.
    expect((await curl(KEY.secretAccessKey, "/token?a=1&b=x%20y")).status).toBe(200);
  });

  it("hands the verifier a header sent on several lines line by line, as AWS canonicalises it", async () => {
    const host = new URL(url).host;
    const body = '{"scope":"skatteetaten:mva"}';
    const signer = new SignatureV4({
      service: "execute-api",
      region: REGION,
      credentials: KEY,
      sha256: Sha256,
    });
    const signedRequest = await signer.sign(
      {
        method: "POST",
        protocol: "http:",
        hostname: host,
        path: "/token",
        headers: { host, "content-type": "application/json", "my-header1": "value2,value2,value1" },
        body,
      },
      { signingDate: new Date() },
    );
    const send = (repeated: string[]) =>
      new Promise<number>((resolve, reject) => {
        const { "my-header1": _, ...single } = signedRequest.headers;
        const lines = [...Object.entries(single).flat(), ...repeated.flatMap((v) => ["My-Header1", v])];
        const req = httpRequest(`${url}/token`, { method: "POST", headers: lines }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
        req.end(body);
      });
    expect(await send(["value2", "value2", "value1"])).toBe(200);
    expect(await send(["value1", "value2", "value2"])).toBe(403);
  });

  it("refuses curl's signature made with the wrong secret", async () => {
    const response = await curl("x".repeat(40));
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body).message).toContain(SIGNATURE_MISMATCH);
  });
});

/** Presigns with @smithy/signature-v4 (query-string SigV4) and returns what the gateway would see. */
async function presigned(
  input: { date?: number; expiresIn?: number; credentials?: SignInput["credentials"] } = {},
): Promise<Signed> {
  const signer = new SignatureV4({
    service: "execute-api",
    region: REGION,
    credentials: input.credentials ?? KEY,
    sha256: Sha256,
  });
  const request = await signer.presign(
    {
      method: "GET",
      protocol: "https:",
      hostname: "abc.execute-api.eu-north-1.amazonaws.com",
      path: "/health",
      query: { b: "2" },
      headers: { host: "abc.execute-api.eu-north-1.amazonaws.com" },
    },
    { signingDate: new Date(input.date ?? NOW), expiresIn: input.expiresIn ?? 60 },
  );
  const rawQuery = Object.entries(request.query ?? {})
    .map(([k, v]) => `${uriEncode(k)}=${uriEncode(String(v))}`)
    .join("&");
  return { method: "GET", path: "/health", rawQuery, headers: { ...request.headers }, body: Buffer.alloc(0) };
}

describe("what API Gateway accepts beyond the Authorization header", () => {
  it("canonicalises a repeated header as AWS does: each value trimmed, joined by ','", async () => {
    // AWS's get-header-key-duplicate vector, with our region and service: value2,value2,value1 in arrival order.
    const signer = new SignatureV4({
      service: "execute-api",
      region: REGION,
      credentials: KEY,
      sha256: Sha256,
    });
    const request = await signer.sign(
      {
        method: "GET",
        protocol: "https:",
        hostname: "abc.execute-api.eu-north-1.amazonaws.com",
        path: "/health",
        headers: { host: "abc.execute-api.eu-north-1.amazonaws.com", "my-header1": "value2,value2,value1" },
      },
      { signingDate: new Date(NOW) },
    );
    const lines = { ...request.headers, "my-header1": ["value2", " value2 ", "value1"] };
    const base = { method: "GET", path: "/health", rawQuery: "", body: Buffer.alloc(0) };
    expect(verify({ ...base, headers: lines }).ok).toBe(true);
    expect(verify({ ...base, headers: { ...lines, "my-header1": ["value1", "value2", "value2"] } }).ok).toBe(
      false,
    );
  });

  it("accepts a presigned URL (query-string SigV4) until X-Amz-Expires runs out", async () => {
    expect(verify(await presigned({ expiresIn: 60 }))).toMatchObject({ ok: true });
    expect(verify(await presigned({ date: NOW - 59_000, expiresIn: 60 }))).toMatchObject({ ok: true });
    expect(refusal(verify(await presigned({ date: NOW - 61_000, expiresIn: 60 })))).toContain(
      "Signature expired",
    );
    // A week is the longest a presigned URL may claim; older than 5 minutes is fine within it.
    expect(verify(await presigned({ date: NOW - 3_600_000, expiresIn: 7_200 }))).toMatchObject({ ok: true });
    expect(refusal(verify(await presigned({ date: NOW + 6 * 60_000 })))).toContain(
      "Signature not yet current",
    );
  });

  it("refuses a presigned URL whose parameters changed, or that is incomplete", async () => {
    const request = await presigned({ expiresIn: 60 });
    const longer = request.rawQuery.replace("X-Amz-Expires=60", "X-Amz-Expires=6000");
    expect(refusal(verify({ ...request, rawQuery: longer }))).toContain(SIGNATURE_MISMATCH);
    const tooLong = request.rawQuery.replace("X-Amz-Expires=60", "X-Amz-Expires=604801");
    expect(refusal(verify({ ...request, rawQuery: tooLong }))).toContain("X-Amz-Expires must be");
    const unsigned = request.rawQuery.replace(/&?X-Amz-Signature=[0-9a-f]+/, "");
    expect(refusal(verify({ ...request, rawQuery: unsigned }))).toContain("must include 'X-Amz-Signature'");
  });

  it("accepts a presigned URL made with session credentials, which carries the token in the query", async () => {
    const request = await presigned({ credentials: TEMP });
    expect(request.rawQuery).toContain("X-Amz-Security-Token=session-tok");
    expect(verify(request)).toMatchObject({ ok: true });
  });

  it("refuses a request that is signed both ways", async () => {
    const query = await presigned();
    const header = await signed({ method: "GET", path: "/health", body: "" });
    expect(refusal(verify({ ...query, headers: header.headers }))).toContain(
      "Only one auth mechanism allowed",
    );
  });
});

describe("what a hostile request gets: a 403, never a crash", () => {
  it.each(["__proto__", "constructor", "toString", "hasOwnProperty"])(
    "answers SignedHeaders=%s with a signature mismatch",
    async (name) => {
      const request = await signed();
      const authorization = request.headers.authorization?.replace(
        "SignedHeaders=",
        `SignedHeaders=${name};`,
      );
      expect(
        refusal(verify({ ...request, headers: { ...request.headers, authorization: authorization ?? "" } })),
      ).toContain(SIGNATURE_MISMATCH);
    },
  );

  it("answers constructor-like query parameters and a __proto__ header by the signature alone", async () => {
    // (Not __proto__ in the query: @smithy/signature-v4 itself drops that parameter from what it signs.)
    expect(verify(await signed({ query: { constructor: "y", hasOwnProperty: "z" } })).ok).toBe(true);
    const request = await signed();
    const headers = JSON.parse(
      `{"__proto__": ["a"], "constructor": "b", ${JSON.stringify(request.headers).slice(1)}`,
    );
    expect(verify({ ...request, headers }).ok).toBe(true);
  });

  it("refuses a session token sent with a long-term access key", async () => {
    const request = await signed({ credentials: { ...KEY, sessionToken: "made-up" } });
    expect(request.headers["x-amz-security-token"]).toBe("made-up");
    expect(refusal(verify(request))).toBe(INVALID_TOKEN);
    const presignedWithToken = await presigned({ credentials: { ...KEY, sessionToken: "made-up" } });
    expect(refusal(verify(presignedWithToken))).toBe(INVALID_TOKEN);
  });
});

describe("the signing key derivation", () => {
  it("is done once per secret, date, region and service, not per request", async () => {
    const derived: string[] = [];
    const counting = cachedSigningKeys((secret, date, region, service) => {
      derived.push(`${secret.slice(0, 1)}/${date}`);
      return signingKey(secret, date, region, service);
    });
    const cached = createSigV4Verifier({
      region: REGION,
      lookup: (id) => known.get(id),
      now: () => NOW,
      signingKeys: counting,
    });
    for (let i = 0; i < 3; i += 1) expect(cached(await signed()).ok).toBe(true);
    expect(derived).toEqual(["s/20250601"]);
    expect(cached(await signed({ credentials: TEMP })).ok).toBe(true);
    const tomorrow = NOW + 24 * 3_600_000;
    const nextDay = createSigV4Verifier({
      region: REGION,
      lookup: (id) => known.get(id),
      now: () => tomorrow,
      signingKeys: counting,
    });
    expect(nextDay(await signed({ date: tomorrow })).ok).toBe(true);
    expect(derived).toEqual(["s/20250601", "t/20250601", "s/20250602"]);
  });

  it("keeps a bounded number of keys, dropping the oldest", () => {
    let derivations = 0;
    const keys = cachedSigningKeys((...args) => {
      derivations += 1;
      return signingKey(...args);
    }, 2);
    keys("a", "20250601", REGION, "execute-api");
    keys("b", "20250601", REGION, "execute-api");
    keys("c", "20250601", REGION, "execute-api");
    keys("c", "20250601", REGION, "execute-api");
    expect(derivations).toBe(3);
    keys("a", "20250601", REGION, "execute-api");
    expect(derivations).toBe(4);
  });
});
