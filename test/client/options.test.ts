// The caller client's options checked at construction, and credentials problems reported as credentials_error.
import { afterEach, describe, expect, it } from "vitest";
import { createTokenClient, TokenBrokerError } from "../../lib/client/index.ts";

const CREDENTIALS = { accessKeyId: "AKIACLIENTTEST000001", secretAccessKey: "c".repeat(40) };
const ENDPOINT = "https://abc123-vpce-0123.execute-api.eu-north-1.amazonaws.com/prod";
const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

/** A fetch that fails the test if the client ever sends anything. */
const noFetch: typeof fetch = async () => {
  throw new Error("the client sent a request");
};

describe("createTokenClient options", () => {
  it.each([
    [
      "undefined (TOKEN_BROKER_URL unset)",
      undefined,
      /endpoint must be the broker's absolute http\(s\) URL.*got undefined/,
    ],
    ["an empty string", "", /got an empty string/],
    ["a host without a scheme", "abc123.execute-api.eu-north-1.amazonaws.com/prod", /has no scheme or host/],
    ["another scheme", "ftp://broker.example/prod", /got the scheme ftp:/],
    ["user:password in it", "https://me:pw@broker.example/prod", /without user:password/],
  ])("refuses an endpoint that is %s with a TypeError saying what it expects", (_, endpoint, message) => {
    const options = { endpoint, region: "eu-north-1", credentials: CREDENTIALS } as unknown as Parameters<
      typeof createTokenClient
    >[0];
    expect(() => createTokenClient(options)).toThrow(TypeError);
    expect(() => createTokenClient(options)).toThrow(message);
  });

  it("takes the region from AWS_REGION when the option is left out, as plain JavaScript may", async () => {
    process.env.AWS_REGION = "eu-west-1";
    let authorization = "";
    const client = createTokenClient({
      endpoint: ENDPOINT,
      credentials: CREDENTIALS,
      fetch: async (_url, init) => {
        authorization = new Headers(init?.headers).get("authorization") ?? "";
        return new Response("{}", { status: 403, headers: { "content-type": "application/json" } });
      },
    });
    await client.getToken({ scope: "skatteetaten:mva" }).catch(() => undefined);
    expect(authorization).toContain("/eu-west-1/execute-api/aws4_request");
  });

  it("refuses a missing region (no option, no AWS_REGION) and one that is not a region", () => {
    delete process.env.AWS_REGION;
    expect(() => createTokenClient({ endpoint: ENDPOINT, credentials: CREDENTIALS })).toThrow(
      /region is required .*pass region or set AWS_REGION/,
    );
    expect(() =>
      createTokenClient({ endpoint: ENDPOINT, region: "Stockholm", credentials: CREDENTIALS }),
    ).toThrow(/region must be an AWS region such as eu-north-1 \(got "Stockholm"\)/);
  });
});

describe("the caller client without usable credentials", () => {
  it("reports an empty credential chain as credentials_error, not a network error, and sends nothing", async () => {
    for (const name of Object.keys(process.env)) if (name.startsWith("AWS_")) delete process.env[name];
    Object.assign(process.env, {
      AWS_CONFIG_FILE: "/nonexistent/config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
      AWS_EC2_METADATA_DISABLED: "true",
    });
    const client = createTokenClient({ endpoint: ENDPOINT, region: "eu-north-1", fetch: noFetch });
    const error = await client.getToken({ scope: "skatteetaten:mva" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenBrokerError);
    expect(error).toMatchObject({ code: "credentials_error", status: 0 });
    expect((error as TokenBrokerError).detail).toMatch(/^No AWS credentials to sign the request with: /);
  });

  it("reports a provider that fails (an expired SSO session) as credentials_error with the provider's words", async () => {
    const client = createTokenClient({
      endpoint: ENDPOINT,
      region: "eu-north-1",
      fetch: noFetch,
      credentials: async () => {
        throw new Error("The SSO session associated with this profile has expired. Run aws sso login");
      },
    });
    await expect(client.getToken({ scope: "skatteetaten:mva" })).rejects.toMatchObject({
      code: "credentials_error",
      detail: expect.stringContaining("SSO session associated with this profile has expired"),
    });
  });

  it("refuses credentials past their expiration before signing with them", async () => {
    const client = createTokenClient({
      endpoint: ENDPOINT,
      region: "eu-north-1",
      fetch: noFetch,
      credentials: { ...CREDENTIALS, sessionToken: "t", expiration: new Date("2020-01-01T00:00:00Z") },
    });
    await expect(client.getToken({ scope: "skatteetaten:mva" })).rejects.toMatchObject({
      code: "credentials_error",
      detail: expect.stringContaining("expired at 2020-01-01T00:00:00.000Z"),
    });
  });

  it("reports API Gateway's refusal of an expired session token as credentials_error", async () => {
    const client = createTokenClient({
      endpoint: ENDPOINT,
      region: "eu-north-1",
      credentials: CREDENTIALS,
      fetch: async () =>
        new Response(JSON.stringify({ message: "The security token included in the request is expired" }), {
          status: 403,
          headers: { "content-type": "application/json" },
        }),
    });
    await expect(client.getToken({ scope: "skatteetaten:mva" })).rejects.toMatchObject({
      code: "credentials_error",
      status: 403,
    });
  });
});
