// What the broker tells a caller and writes to its log, through the token handler: caller-chosen text masked, none
// of its configuration, upstream text without tokens or encoded claims, and audit events that say whose fault it was.
import { generateKeyPairSync } from "node:crypto";
import {
  DisabledException,
  GenerateMacCommand,
  GetPublicKeyCommand,
  KMSClient,
  SignCommand,
} from "@aws-sdk/client-kms";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lambdaContext } from "../../dev/api-gateway-event.ts";
import type { LambdaHandler } from "../../functions/http.ts";
import { createTokenHandler } from "../../functions/token.ts";
import { CLIENT_REQUIRED, UNKNOWN_CLIENT } from "../../lib/broker/clients.ts";
import { createBroker } from "../../lib/broker/index.ts";
import { loadConfig } from "../../lib/config/index.ts";
import { loadPidPseudonymizer } from "../../lib/pseudonym/pseudonym-key.ts";
import { USERINFO_MESSAGE } from "../../lib/request/resource.ts";
import { KMS_SIGNING_ALGORITHM, KmsSigner } from "../../lib/signer/kms.ts";
import {
  ACCOUNT,
  type BrokerFixture,
  type ControlledBroker,
  roleCaller,
  startBrokerFixture,
  startPidBroker,
  tokenEvent,
} from "../support/broker-fixture.ts";
import { captureOutput } from "../support/output.ts";
import { PID_A, PID_B } from "../support/pid.ts";
import { startTwoClientFixture, type TwoClientFixture } from "../support/two-clients.ts";

const POLICY = {
  rules: [
    { principal: `arn:aws:iam::${ACCOUNT}:role/payroll-*`, scopes: ["skatteetaten:*", "bench:*"] },
    {
      principal: `arn:aws:iam::${ACCOUNT}:role/payroll-*`,
      scopes: ["skatteetaten:*"],
      exchanges: ["altinn"],
    },
    {
      principal: `arn:aws:iam::${ACCOUNT}:role/person-svc`,
      scopes: ["skatteetaten:inntektsmottak"],
      pid: true,
    },
  ],
};
const KEY_ARN = "arn:aws:kms:eu-north-1:111122223333:key/0b6f9c1e-52c6-4d3a-9d8e-1c2b3a4d5e6f";
const PID_KEY_ARN = "arn:aws:kms:eu-north-1:111122223333:key/7d1e0c4a-98b2-4f7e-a3c5-2b6d8e0f1a3c";

/** `digits` written in the script whose zero is `zero` (U+FF10 fullwidth, U+0660 Arabic-Indic, ...). */
const inScript = (digits: string, zero: number): string =>
  [...digits].map((d) => String.fromCodePoint(zero + Number(d))).join("");
const base64url = (text: string): string => Buffer.from(text).toString("base64url");
/** A compact JWS that carries the pid in its claims, as a grant quoted back would. */
const quotedGrant = (pid: string): string =>
  `${base64url('{"alg":"RS256","kid":"broker-key-1"}')}.${base64url(JSON.stringify({ pid, scope: "x" }))}.${base64url("signature-bytes-here")}`;

interface Told {
  status: number;
  /** Response headers and body, as the caller gets them. */
  answer: string;
  body: Record<string, unknown>;
  /** Every line written to stdout and stderr during the call. */
  lines: string[];
  /** The call's audit record. */
  audit: Record<string, unknown>;
  /** The EMF documents written during the call. */
  metrics: Record<string, unknown>[];
}

async function tell(handler: LambdaHandler, event: APIGatewayProxyEvent): Promise<Told> {
  const output = captureOutput();
  let response: Awaited<ReturnType<LambdaHandler>>;
  try {
    response = await handler(event, lambdaContext("token"));
  } finally {
    output.restore();
  }
  const json = output.json();
  const audit = json.find((line) => line.request_id === event.requestContext.requestId);
  if (audit === undefined) throw new Error(`no audit record for ${event.requestContext.requestId}`);
  return {
    status: response.statusCode,
    answer: `${JSON.stringify(response.headers)}\n${response.body}`,
    body: JSON.parse(response.body) as Record<string, unknown>,
    lines: output.lines,
    audit,
    metrics: json.filter((line) => line._aws !== undefined),
  };
}

/** The call's answer and log lines, none of which may contain any of `secrets`. */
function expectNowhere(told: Told, ...secrets: string[]): void {
  for (const secret of secrets) {
    expect(told.answer, "the answer").not.toContain(secret);
    for (const line of told.lines) expect(line, "a log line").not.toContain(secret);
  }
}

const count = (documents: Record<string, unknown>[], name: string): number =>
  documents.filter((doc) => doc[name] !== undefined).length;

let fixture: ControlledBroker;
let handler: LambdaHandler;

beforeAll(async () => {
  fixture = await startPidBroker(POLICY);
  handler = (event) => fixture.call(event);
});
afterAll(() => fixture.close());

describe("nothing a caller chose is echoed unmasked", () => {
  it("an 11-digit client name is not echoed", async () => {
    const told = await tell(handler, tokenEvent({ scope: "skatteetaten:mva", client: PID_A }));
    expect(told.status).toBe(400);
    expect(told.body).toMatchObject({ code: "invalid_request", detail: UNKNOWN_CLIENT });
    expect(told.audit).toMatchObject({ event: "token_rejected", code: "invalid_request" });
    expect(String(told.audit.reason)).toContain('"[pid]"');
    expectNowhere(told, PID_A);
  });

  it("an unknown client gets a fixed message, whatever its name", async () => {
    const one = await tell(handler, tokenEvent({ scope: "skatteetaten:mva", client: "payrol" }));
    const other = await tell(handler, tokenEvent({ scope: "skatteetaten:mva", client: "vat-2" }));
    expect(one.body.detail).toBe(UNKNOWN_CLIENT);
    expect(other.body.detail).toBe(UNKNOWN_CLIENT);
    expect(one.answer).not.toContain("payrol");
    // Nor the one client this broker has.
    expect(one.answer).not.toContain("default");
  });

  it("a session name that is a pid is masked in the audit record's session", async () => {
    const told = await tell(
      handler,
      tokenEvent({ scope: "skatteetaten:mva" }, { identity: roleCaller("payroll-svc", `job-${PID_A}`) }),
    );
    expect(told.status).toBe(200);
    expect(told.audit).toMatchObject({ event: "token_issued", session: "job-[pid]" });
    expectNowhere(told, PID_A);
  });

  it("a federated user's name that is a pid is masked in the denial and the audit record; the account stays", async () => {
    const identity = {
      accessKey: "ASIAEXAMPLE",
      accountId: ACCOUNT,
      caller: `${ACCOUNT}:${PID_B}`,
      userArn: `arn:aws:sts::${ACCOUNT}:federated-user/${PID_B}`,
    };
    const told = await tell(handler, tokenEvent({ scope: "skatteetaten:mva" }, { identity }));
    expect(told.status).toBe(403);
    expect(told.body.detail).toBe(
      `no policy rule matches principal arn:aws:sts::${ACCOUNT}:federated-user/[pid]`,
    );
    expect(told.audit.principal).toBe(`arn:aws:sts::${ACCOUNT}:federated-user/[pid]`);
    expectNowhere(told, PID_B);
  });

  it("an invalid scope-token with fullwidth or Arabic-Indic digits is masked", async () => {
    for (const zero of [0xff10, 0x0660, 0x06f0, 0x0966]) {
      const digits = inScript(PID_A, zero);
      const told = await tell(handler, tokenEvent({ scope: `skatteetaten:${digits}` }));
      expect(told.status).toBe(400);
      expect(told.body.detail).toBe('scope: invalid scope-token "skatteetaten:[pid]"');
      expect(told.audit).toMatchObject({ event: "token_rejected", reason: told.body.detail });
      expectNowhere(told, digits, PID_A);
    }
  });

  it("an unknown field named by a pid, written with JSON escapes, is masked", async () => {
    const escaped = [...PID_B]
      .map((d) => `\\u${(0x0660 + Number(d)).toString(16).padStart(4, "0")}`)
      .join("");
    const told = await tell(
      handler,
      tokenEvent(undefined, { raw: `{"scope":"skatteetaten:mva","${escaped}":1}` }),
    );
    expect(told.status).toBe(400);
    expect(told.body.detail).toBe('unknown field(s): "[pid]"');
    expectNowhere(told, inScript(PID_B, 0x0660), PID_B);
  });

  it("a resource with userinfo is 400, and neither the answer nor the audit record carries the userinfo", async () => {
    for (const resource of ["https://u:p@x.no", "https://svc-user@api.example.no/v1", "https://@x.no/"]) {
      const told = await tell(handler, tokenEvent({ scope: "skatteetaten:mva", resource }));
      expect(told.status).toBe(400);
      expect(told.body.detail).toBe(USERINFO_MESSAGE);
      expect(told.audit).toMatchObject({ event: "token_rejected", code: "invalid_request" });
      expectNowhere(told, resource, "u:p@", "svc-user");
    }
  });

  it("a pid percent-encoded in a resource is refused like a plain one", async () => {
    const encoded = [...PID_A].map((d) => `%3${d}`).join("");
    const told = await tell(
      handler,
      tokenEvent({ scope: "skatteetaten:mva", resource: `https://x.no/p/${encoded}` }),
    );
    expect(told.status).toBe(400);
    expect(String(told.body.detail)).toMatch(/^resource: a URI must not hold 11 or more digits/);
    expectNowhere(told, encoded, PID_A);
  });
});

describe("callers are not told the broker's configuration", () => {
  let two: TwoClientFixture;
  let twoHandler: LambdaHandler;
  beforeAll(async () => {
    two = await startTwoClientFixture();
    twoHandler = createTokenHandler(createBroker(loadConfig(two.env)));
  });
  afterAll(() => two.close());

  it("a 400 does not list the configured client names", async () => {
    const ops = { identity: roleCaller("ops") };
    const missing = await tell(twoHandler, tokenEvent({ scope: "skatteetaten:mva" }, ops));
    const unknown = await tell(twoHandler, tokenEvent({ scope: "skatteetaten:mva", client: "hr" }, ops));
    expect(missing.body).toMatchObject({ code: "invalid_request", detail: CLIENT_REQUIRED });
    expect(unknown.body).toMatchObject({ code: "invalid_request", detail: UNKNOWN_CLIENT });
    for (const told of [missing, unknown]) {
      expect(told.answer).not.toMatch(/payroll|vat/);
      // The operator reading the audit record is told which clients there are.
      expect(String(told.audit.reason)).toContain("(configured: payroll, vat)");
    }
    expect(String(unknown.audit.reason)).toContain('"hr"');
  });

  describe("a 503 signing_unavailable", () => {
    const kms = new KMSClient({
      region: "eu-north-1",
      credentials: { accessKeyId: "x", secretAccessKey: "y" },
    });
    const mock = mockClient(kms);
    const denied = () =>
      new DisabledException({ $metadata: { httpStatusCode: 400 }, message: "raw message with internals" });
    let base: BrokerFixture;
    beforeAll(async () => {
      base = await startBrokerFixture();
    });
    afterAll(async () => {
      mock.restore();
      await base.close();
    });

    async function brokerWithKmsKeys(): Promise<LambdaHandler> {
      const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      mock.reset();
      mock.on(GetPublicKeyCommand).resolves({
        KeyId: KEY_ARN,
        KeySpec: "RSA_2048",
        KeyUsage: "SIGN_VERIFY",
        PublicKey: new Uint8Array(publicKey.export({ type: "spki", format: "der" })),
        SigningAlgorithms: Object.values(KMS_SIGNING_ALGORITHM),
      });
      mock.on(SignCommand).rejects(denied());
      // The first MAC is the cold start's probe; every later one fails.
      mock
        .on(GenerateMacCommand)
        .resolvesOnce({ Mac: new Uint8Array(32), KeyId: PID_KEY_ARN })
        .rejects(denied());
      const [signer, pseudonymizer] = await Promise.all([
        KmsSigner.load("alias/broker", { alg: "RS256", kid: "broker-key-1", client: kms }),
        loadPidPseudonymizer({ source: "kms", keyId: "alias/pid" }, { kmsClient: kms }),
      ]);
      const env = { ...base.env, POLICY: JSON.stringify(POLICY), PID_PSEUDONYM_KEY: "kms:alias/pid" };
      return createTokenHandler(createBroker(loadConfig(env), {}, { signer, pseudonymizer }));
    }

    it("does not carry the signing key's ARN; its audit record does", async () => {
      const kmsHandler = await brokerWithKmsKeys();
      const told = await tell(kmsHandler, tokenEvent({ scope: "skatteetaten:mva" }));
      expect(told.status).toBe(503);
      expect(told.body).toMatchObject({
        code: "signing_unavailable",
        detail: "KMS reports the signing key is disabled; enable it or point SIGNING_KEY at an enabled key",
      });
      expect(told.answer).not.toContain(KEY_ARN);
      expect(told.answer).not.toContain("111122223333");
      expect(told.audit).toMatchObject({ event: "token_failed", code: "signing_unavailable" });
      expect(String(told.audit.reason)).toContain(`the signing key ${KEY_ARN}`);
      expectNowhere(told, "raw message with internals");
    });

    it("does not carry the pid pseudonym key's ARN; its audit record does", async () => {
      const kmsHandler = await brokerWithKmsKeys();
      const told = await tell(
        kmsHandler,
        tokenEvent(
          { scope: "skatteetaten:inntektsmottak", pid: PID_A },
          { identity: roleCaller("person-svc") },
        ),
      );
      expect(told.status).toBe(503);
      expect(told.body).toMatchObject({
        code: "signing_unavailable",
        detail: expect.stringMatching(/^KMS reports the pid pseudonym key is disabled/),
      });
      expect(told.answer).not.toContain(PID_KEY_ARN);
      expect(String(told.audit.reason)).toContain(`the pid pseudonym key ${PID_KEY_ARN}`);
      expectNowhere(told, PID_A);
    });
  });
});

describe("upstream text is relayed without secrets", () => {
  it("a grant Maskinporten quotes back is not relayed, while its error and MP- code are", async () => {
    const grant = quotedGrant(PID_A);
    fixture.emulator.injectFault({
      type: "status",
      status: 400,
      body: JSON.stringify({
        error: "invalid_grant",
        error_description: `MP-124 Invalid assertion. Grant '${grant}' for pid ${PID_B}, claims ${base64url(`{"pid":"${PID_A}"}`)}`,
      }),
    });
    const told = await tell(handler, tokenEvent({ scope: "bench:quoted-grant" }));
    expect(told.status).toBe(502);
    expect(told.body).toMatchObject({
      code: "upstream_rejected",
      upstream_error: "invalid_grant",
      upstream_error_description:
        "MP-124 Invalid assertion. Grant '[removed]' for pid [pid], claims [removed]",
    });
    expect(told.audit).toMatchObject({ event: "token_failed", code: "upstream_rejected" });
    expect(String(told.audit.reason)).toContain("MP-124 Invalid assertion. Grant '[removed]'");
    expectNowhere(told, grant, PID_A, PID_B, grant.split(".")[1] ?? grant, base64url(PID_A).slice(0, 14));
  });

  it("a token Altinn quotes back is not relayed", async () => {
    const token = quotedGrant(PID_B);
    fixture.emulator.altinn.injectFault({
      type: "status",
      status: 400,
      body: JSON.stringify({ error: "invalid_token", error_description: `token ${token} not accepted` }),
    });
    const told = await tell(handler, tokenEvent({ scope: "skatteetaten:mva", exchange: "altinn" }));
    expect(told.status).toBe(502);
    expect(told.body).toMatchObject({
      upstream: "altinn",
      upstream_error: "invalid_token",
      upstream_error_description: "token [removed] not accepted",
    });
    expectNowhere(told, token, PID_B, token.split(".")[1] ?? token);
  });
});

describe("audit events say whose fault it was", () => {
  it("a 400, a 413 and a 415 caused by the request are token_rejected, not token_failed", async () => {
    // One at a time: each call captures the output on its own.
    const told = [
      await tell(handler, tokenEvent({ scope: "bad  scope" })),
      await tell(handler, tokenEvent(undefined, { raw: "x".repeat(9000) })),
      await tell(handler, tokenEvent({ scope: "skatteetaten:mva" }, { contentType: "text/plain" })),
    ];
    expect(told.map((t) => t.status)).toEqual([400, 413, 415]);
    expect(told.map((t) => [t.audit.event, t.audit.code])).toEqual([
      ["token_rejected", "invalid_request"],
      ["token_rejected", "payload_too_large"],
      ["token_rejected", "unsupported_media_type"],
    ]);
  });

  it("a Maskinporten 4xx refusal counts UpstreamRejections and a 5xx UpstreamErrors, each a token_failed", async () => {
    fixture.emulator.injectFault({
      type: "status",
      status: 400,
      body: '{"error":"invalid_scope","error_description":"MP-200"}',
    });
    const refused = await tell(handler, tokenEvent({ scope: "bench:refused" }));
    const down = { type: "status", status: 503 } as const;
    fixture.emulator.injectFault(down, down, down);
    const failing = await tell(handler, tokenEvent({ scope: "bench:down" }));
    expect([refused.status, failing.status]).toEqual([502, 503]);
    expect([refused.audit.event, failing.audit.event]).toEqual(["token_failed", "token_failed"]);
    expect([count(refused.metrics, "UpstreamRejections"), count(refused.metrics, "UpstreamErrors")]).toEqual([
      1, 0,
    ]);
    expect([count(failing.metrics, "UpstreamRejections"), count(failing.metrics, "UpstreamErrors")]).toEqual([
      0, 1,
    ]);
    expect(failing.metrics[0]?.UpstreamErrors).toEqual([1, 1, 1]);
  });

  it("an Altinn 4xx refusal counts ExchangeRejections, not ExchangeErrors", async () => {
    fixture.emulator.altinn.injectFault({ type: "status", status: 401, body: "" });
    const told = await tell(
      handler,
      tokenEvent({ scope: "skatteetaten:a-meldinger/les", exchange: "altinn" }),
    );
    expect(told.status).toBe(502);
    expect([count(told.metrics, "ExchangeRejections"), count(told.metrics, "ExchangeErrors")]).toEqual([
      1, 0,
    ]);
  });
});
