// `npm run token` failing before any answer: the real cause (credentials or network) by its code, and no status 0.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { cleanEnv } from "../support/npm-start.ts";

const run = promisify(execFile);

/** The CLI's exit code and stderr, run with `env` on top of an environment without any AWS or broker variable. */
async function tokenCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  const noCredentials = {
    AWS_CONFIG_FILE: "/nonexistent/config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
    AWS_EC2_METADATA_DISABLED: "true",
  };
  try {
    await run("npx", ["tsx", "scripts/token.ts", ...args], {
      env: { ...cleanEnv(), ...noCredentials, ...env },
    });
    return { code: 0, stderr: "" };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

describe("npm run token without an answer from the broker", () => {
  it("says credentials_error, not network_error, when the AWS credential chain has none", async () => {
    const { code, stderr } = await tokenCli(
      ["--url", "https://abc123.execute-api.eu-north-1.amazonaws.com/prod", "--scope", "skatteetaten:mva"],
      {},
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/^credentials_error: No AWS credentials to sign the request with: /);
  });

  it("says network_error without a status 0 when nothing listens at --url", async () => {
    const { code, stderr } = await tokenCli(
      ["--url", "http://127.0.0.1:9/prod", "--scope", "skatteetaten:mva"],
      {
        AWS_ACCESS_KEY_ID: "AKIATESTTESTTEST0001",
        AWS_SECRET_ACCESS_KEY: "s".repeat(40),
      },
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/^network_error: The broker at http:\/\/127\.0\.0\.1:9 could not be reached/);
  });
});
