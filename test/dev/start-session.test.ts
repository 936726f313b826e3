// `npm start` with a credentials file naming temporary credentials of an assumed role: it starts, its policy names
// the role, and a caller signing with the session token gets a token.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenClient } from "../../lib/client/index.ts";
import { type StartedLocalBroker, startTestLocalBroker } from "../support/local-broker.ts";

const SESSION = {
  accessKeyId: "ASIALOCALSESSION0001",
  secretAccessKey: "q".repeat(40),
  sessionToken: "local-session-token",
  principalArn: "arn:aws:sts::111122223333:assumed-role/payroll-svc/run-1",
};
const PATH_ROLE = {
  accessKeyId: "AKIALOCALPATHROLE001",
  secretAccessKey: "r".repeat(40),
  principalArn: "arn:aws:iam::111122223333:role/team/billing-svc",
};

let local: StartedLocalBroker;

beforeAll(async () => {
  local = await startTestLocalBroker([SESSION, PATH_ROLE]);
}, 60_000);

afterAll(() => local?.stop());

describe("npm start with session credentials of an assumed role", () => {
  it("writes policy rules naming each entry's role, not its session or role path", async () => {
    const policy = JSON.parse(await readFile(local.broker.settings.policy, "utf8"));
    const principals = policy.rules.map((rule: { principal: string }) => rule.principal);
    expect(new Set(principals)).toEqual(
      new Set(["arn:aws:iam::111122223333:role/payroll-svc", "arn:aws:iam::111122223333:role/billing-svc"]),
    );
  });

  it("gives a caller signing with the session token a token, and refuses one without it", async () => {
    const client = (sessionToken?: string) =>
      createTokenClient({
        endpoint: local.broker.url,
        region: local.broker.region,
        credentials: {
          accessKeyId: SESSION.accessKeyId,
          secretAccessKey: SESSION.secretAccessKey,
          ...(sessionToken === undefined ? {} : { sessionToken }),
        },
        maxRetries: 0,
      });
    const token = await client(SESSION.sessionToken).getToken({ scope: "skatteetaten:mva" });
    expect(token).toMatchObject({ token_type: "Bearer", scope: "skatteetaten:mva" });
    await expect(client().getToken({ scope: "skatteetaten:mva" })).rejects.toMatchObject({
      code: "credentials_error",
      status: 403,
    });
  });

  it("serves a role written with a path under its role name", async () => {
    const client = createTokenClient({
      endpoint: local.broker.url,
      region: local.broker.region,
      credentials: { accessKeyId: PATH_ROLE.accessKeyId, secretAccessKey: PATH_ROLE.secretAccessKey },
    });
    await expect(client.getToken({ scope: "skatteetaten:mva" })).resolves.toMatchObject({
      token_type: "Bearer",
    });
  });
});
