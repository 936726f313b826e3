// `npm start` with nothing set, as a newcomer first runs it (port 3000, `.local`): every line its banner prints works.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NpmStart, printedJson, startNpmStartAsIs } from "../support/npm-start.ts";

let started: NpmStart;
beforeAll(async () => {
  started = await startNpmStartAsIs();
}, 90_000);
afterAll(() => started?.close());

const claimsOf = (accessToken: string) =>
  JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;

describe("npm start with no variable set (its own port 3000 and .local)", () => {
  it("listens on 127.0.0.1:3000 and prints the npm run token line with nothing in front", () => {
    expect(started.banner.url).toBe("http://127.0.0.1:3000");
    expect(started.banner.token).toBe("npm run token -- --scope skatteetaten:mva");
  });

  it("answers the printed curl command with a token", async () => {
    const { stdout } = await started.run(started.banner.curl);
    expect(claimsOf(JSON.parse(stdout).access_token)).toMatchObject({ client_id: "local-broker" });
  });

  it("answers the printed npm run token line, run from the checkout, with a token", async () => {
    const { stdout } = await started.run(started.banner.token);
    expect(printedJson(stdout)).toMatchObject({ token_type: "Bearer", scope: "skatteetaten:mva" });
  });

  it("answers the printed key status command", async () => {
    const { stdout } = await started.run(started.banner.keys ?? "missing");
    expect(JSON.parse(stdout)).toMatchObject({ client_id: "local-broker" });
  });
});
