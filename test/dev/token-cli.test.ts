// `npm run token`: its usage, and failing before any answer: the real cause (credentials or network), no status 0.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { cleanEnv } from "../support/npm-start.ts";

const run = promisify(execFile);

/** The CLI's exit code and stderr, run with `env` on top of an environment without any AWS or broker variable. */
async function tokenCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const noCredentials = {
    AWS_CONFIG_FILE: "/nonexistent/config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
    AWS_EC2_METADATA_DISABLED: "true",
  };
  try {
    const { stdout, stderr } = await run("npx", ["tsx", "scripts/token.ts", ...args], {
      env: { ...cleanEnv(), ...noCredentials, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("npm run token -- --help", () => {
  it("prints its usage (exit 0), saying where the local broker and its credentials are looked for", async () => {
    const { code, stdout } = await tokenCli(["--help"], {});
    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: npm run token -- --scope /);
    expect(stdout).toContain("http://127.0.0.1:$PORT (default 3000)");
    expect(stdout).toContain("$LOCAL_DIR/credentials.json (LOCAL_DIR default .local)");
  });

  it("prints the usage under what is wrong on stderr for an unknown option (exit 2)", async () => {
    const { code, stdout, stderr } = await tokenCli(["--scopes", "skatteetaten:mva"], {});
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^Unknown option '--scopes'.*\n\nusage: npm run token -- /s);
  });
});

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
