// End-user-restricted (pid) tokens through the token handler and the emulator: the pid in the token, one token per
// person, never a pid token without pid, the policy, and no pid in any log line while audit records carry its pseudonym.
import { createHmac } from "node:crypto";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBroker } from "../../lib/broker/index.ts";
import { ConfigError } from "../../lib/config/config-error.ts";
import { loadConfig } from "../../lib/config/index.ts";
import { PID_MESSAGE } from "../../lib/request/index.ts";
import {
  ACCOUNT,
  type ControlledBroker,
  roleCaller,
  startControlledBroker,
  tokenEvent,
} from "../support/broker-fixture.ts";
import { type CapturedOutput, captureOutput } from "../support/output.ts";
import { D_NUMBER, PID_A, PID_B } from "../support/pid.ts";
import { keyDirectory } from "../support/signer.ts";

const SCOPE = "skatteetaten:inntektsmottak";
const PSEUDONYM_KEY = "e3b98a4da31a127d4bde6e43033f66ba274cab0eb7eb1c70ec41402bf6273dd8";
const pseudonymOf = (pid: string) => createHmac("sha256", PSEUDONYM_KEY).update(pid).digest("hex");
const POLICY = {
  rules: [
    { principal: `arn:aws:iam::${ACCOUNT}:role/person-svc`, scopes: [SCOPE], pid: true },
    { principal: `arn:aws:iam::${ACCOUNT}:role/person-svc`, scopes: [SCOPE] },
    { principal: `arn:aws:iam::${ACCOUNT}:role/payroll-svc`, scopes: [SCOPE] },
  ],
};
const WRONG_CONTROL_DIGIT = `${PID_A.slice(0, 10)}${(Number(PID_A[10]) + 1) % 10}`;

let fixture: ControlledBroker;
let keys: Awaited<ReturnType<typeof keyDirectory>>;
let output: CapturedOutput;
/** Which pid each request carried, by request id: the logs must never tell. */
const pidOf = new Map<string, string>();
const answers: { status: number; body: Record<string, unknown>; pid?: string }[] = [];

async function call(body: Record<string, unknown>, role = "person-svc") {
  const event = tokenEvent(body, { identity: roleCaller(role) });
  if (typeof body.pid === "string") pidOf.set(event.requestContext.requestId, body.pid);
  const response = await fixture.call(event);
  const answer = {
    status: response.statusCode,
    body: JSON.parse(response.body) as Record<string, unknown>,
    ...(typeof body.pid === "string" ? { pid: body.pid } : {}),
  };
  answers.push(answer);
  return answer;
}

beforeAll(async () => {
  keys = await keyDirectory();
  const keyPath = await keys.write("pid-pseudonym.key", PSEUDONYM_KEY);
  fixture = await startControlledBroker({
    env: { POLICY: JSON.stringify(POLICY), PID_PSEUDONYM_KEY: `file:${keyPath}` },
  });
  output = captureOutput();
  try {
    await call({ scope: SCOPE, pid: PID_A });
    await call({ scope: SCOPE, pid: PID_B });
    await call({ scope: SCOPE, pid: PID_A });
    await call({ scope: SCOPE, pid: D_NUMBER });
    await call({ scope: SCOPE });
    await call({ scope: SCOPE, pid: WRONG_CONTROL_DIGIT });
    await call({ scope: SCOPE, pid: PID_B }, "payroll-svc");
    // A pid where it does not belong: in a scope, in a scope-token that is invalid anyway, in a resource (alone or
    // the second of two).
    await call({ scope: `${SCOPE} skatteetaten:${PID_A}` });
    await call({ scope: `skatteetaten:"${PID_B}` });
    await call({ scope: SCOPE, resource: `https://api.example.no/people/${D_NUMBER}` });
    await call({
      scope: SCOPE,
      resource: ["https://api.example.no/people", `https://api.example.no/p/${PID_A}`],
    });
  } finally {
    output.restore();
  }
});
afterAll(async () => {
  await fixture.close();
  await keys.remove();
});

const tokenOf = (i: number) => String(answers[i]?.body.access_token);

describe("pid (end-user-restricted tokens)", () => {
  it("a pid-restricted token carries the pid (in Maskinporten's token, from the grant)", () => {
    expect(answers[0]?.status).toBe(200);
    expect(decodeJwt(tokenOf(0)).pid).toBe(PID_A);
    expect(decodeJwt(tokenOf(3)).pid).toBe(D_NUMBER);
    expect(fixture.emulator.acceptedGrants.filter((g) => g.pid === PID_A)).toHaveLength(1);
  });

  it("two people get two tokens, and one person the same token again", () => {
    expect(decodeJwt(tokenOf(1)).pid).toBe(PID_B);
    expect(tokenOf(1)).not.toBe(tokenOf(0));
    expect(tokenOf(2)).toBe(tokenOf(0));
  });

  it("a request without pid never gets a pid token", () => {
    expect(answers[4]?.status).toBe(200);
    expect(decodeJwt(tokenOf(4))).not.toHaveProperty("pid");
    expect([tokenOf(0), tokenOf(1), tokenOf(3)]).not.toContain(tokenOf(4));
  });

  it("a wrong control digit is 400, and the answer does not repeat the pid", () => {
    expect(answers[5]).toMatchObject({ status: 400, body: { code: "invalid_request", detail: PID_MESSAGE } });
    expect(JSON.stringify(answers[5]?.body)).not.toContain(WRONG_CONTROL_DIGIT.slice(0, 6));
  });

  it("a rule without pid: true denies a request with pid (403), without naming it", () => {
    expect(answers[6]).toMatchObject({ status: 403, body: { code: "access_denied" } });
    expect(String(answers[6]?.body.detail)).toContain('no "pid": true');
    expect(JSON.stringify(answers[6]?.body)).not.toContain(PID_B);
  });

  it("a pid inside scope or resource is 400 naming the field, and neither the answer nor the audit repeats it", () => {
    const [inScope, inBadToken, inResource, inSecondResource] = answers.slice(7);
    expect(inScope).toMatchObject({ status: 400, body: { code: "invalid_request" } });
    expect(String(inScope?.body.detail)).toMatch(
      /^scope: a scope-token must not hold 11 or more digits.*pid/,
    );
    expect(inBadToken).toMatchObject({ status: 400, body: { code: "invalid_request" } });
    expect(String(inBadToken?.body.detail)).toBe('scope: invalid scope-token "skatteetaten:\\"[pid]"');
    expect(inResource).toMatchObject({ status: 400, body: { code: "invalid_request" } });
    expect(String(inResource?.body.detail)).toMatch(/^resource: a URI must not hold 11 or more digits.*pid/);
    expect(inSecondResource).toMatchObject({ status: 400, body: { code: "invalid_request" } });
    expect(String(inSecondResource?.body.detail)).toBe(String(inResource?.body.detail));
    for (const [answer, pid] of [
      [inScope, PID_A],
      [inBadToken, PID_B],
      [inResource, D_NUMBER],
      [inSecondResource, PID_A],
    ] as const) {
      expect(JSON.stringify(answer?.body)).not.toContain(pid);
    }
    // None of them reached Maskinporten.
    expect(fixture.emulator.acceptedGrants.filter((g) => String(g.scope).includes(PID_A))).toEqual([]);
  });

  it("no captured log line contains a pid, while audit records carry a stable pid_pseudonym per person", () => {
    expect(output.lines.length).toBeGreaterThan(0);
    for (const pid of [PID_A, PID_B, D_NUMBER, WRONG_CONTROL_DIGIT]) {
      for (const line of output.lines) expect(line.includes(pid), "a log line holds a pid").toBe(false);
    }
    const records = output.json().filter((line) => typeof line.event === "string");
    const byPid = new Map<string, unknown[]>();
    for (const record of records) {
      const pid = pidOf.get(String(record.request_id));
      if (pid === undefined || pid === WRONG_CONTROL_DIGIT) {
        expect(record.pid_pseudonym, "a record without a (valid) pid has no pseudonym").toBeUndefined();
        continue;
      }
      byPid.set(pid, [...(byPid.get(pid) ?? []), record.pid_pseudonym]);
    }
    expect(byPid.get(PID_A)).toEqual([pseudonymOf(PID_A), pseudonymOf(PID_A)]);
    // Both PID_B's records: the token issued, and the denial of another principal.
    expect(byPid.get(PID_B)).toEqual([pseudonymOf(PID_B), pseudonymOf(PID_B)]);
    expect(byPid.get(D_NUMBER)).toEqual([pseudonymOf(D_NUMBER)]);
    expect(records.find((r) => r.event === "token_denied")?.pid_pseudonym).toBe(pseudonymOf(PID_B));
  });

  it("a policy that allows pid without PID_PSEUDONYM_KEY is refused at cold start", async () => {
    const env = { ...fixture.env, POLICY: JSON.stringify(POLICY) };
    expect(env).not.toHaveProperty("PID_PSEUDONYM_KEY");
    const refusal = createBroker(loadConfig(env));
    await expect(refusal).rejects.toBeInstanceOf(ConfigError);
    await expect(refusal).rejects.toThrow(
      /^PID_PSEUDONYM_KEY: required because policy rules\[0\] allows pid/,
    );
  });
});
