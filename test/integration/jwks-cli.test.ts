import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { compactVerify, importJWK, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KmsSigner } from "../../lib/signer/kms.ts";
import { createKmsKey, createSecret, kmsClient, secretsClient } from "../support/aws.ts";
import { createCertificate } from "../support/certificate.ts";
import { signedGrant } from "../support/signed-grant.ts";
import { keyDirectory, keyFileText, newKey } from "../support/signer.ts";

const run = promisify(execFile);
const kms = kmsClient();
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi"];

/** Runs the CLI as an operator would (the environment carries the moto endpoint and region). */
async function jwks(...args: string[]): Promise<{ keys: JWK[] }> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/jwks.ts", ...args]);
  return JSON.parse(stdout) as { keys: JWK[] };
}

let dir: Awaited<ReturnType<typeof keyDirectory>>;
beforeAll(async () => {
  dir = await keyDirectory();
});
afterAll(() => dir.remove());

describe("npm run jwks", () => {
  it("prints, for kms:alias/..., a JWKS that verifies a grant signed by that key", async () => {
    const { alias } = await createKmsKey(kms, "RSA_2048");
    const printed = await jwks("--key", `kms:${alias}`);

    expect(printed.keys).toHaveLength(1);
    const [jwk] = printed.keys;
    expect(Object.keys(jwk ?? {})).toEqual(["kty", "alg", "use", "kid", "n", "e"]);
    expect(jwk).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" });

    const key = await (await KmsSigner.load(alias, { alg: "RS256", client: kms })).current();
    const grant = await signedGrant(key, "https://test.maskinporten.no/", "client");
    const { protectedHeader } = await compactVerify(grant, await importJWK(jwk ?? {}, "RS256"));
    expect(protectedHeader.kid).toBe(jwk?.kid);
  });

  it("is wired as the npm script and honours --kid and --alg", async () => {
    const { alias } = await createKmsKey(kms, "RSA_3072");
    const { stdout } = await run("npm", [
      "run",
      "--silent",
      "jwks",
      "--",
      "--key",
      `kms:${alias}`,
      "--kid",
      "broker-2026",
      "--alg",
      "RS512",
    ]);
    expect(JSON.parse(stdout).keys[0]).toMatchObject({ kid: "broker-2026", alg: "RS512", kty: "RSA" });
  });

  it("prints the certificate chain as x5c for a secretsmanager: key, and never a private member", async () => {
    const key = newKey();
    const leaf = createCertificate({ subject: "Broker AS", key });
    const arn = await createSecret(secretsClient(), {
      private_key: keyFileText(key, "pem"),
      certificate_chain: [leaf.pem],
    });
    const [jwk] = (await jwks("--key", `secretsmanager:${arn}`)).keys;
    expect(jwk?.x5c).toEqual([leaf.x5c]);
    expect(Object.keys(jwk ?? {}).filter((m) => PRIVATE_MEMBERS.includes(m))).toEqual([]);
  });

  it("prints the JWKS of a file: key", async () => {
    const path = await dir.write("key.json", keyFileText(newKey(), "jwk"));
    const [jwk] = (await jwks("--key", `file:${path}`, "--kid", "local")).keys;
    expect(jwk).toMatchObject({ kty: "RSA", kid: "local", alg: "RS256", use: "sig" });
    expect(Object.keys(jwk ?? {}).filter((m) => PRIVATE_MEMBERS.includes(m))).toEqual([]);
  });

  it("prints its usage for --help (exit 0), and the usage under an unknown option (exit 1)", async () => {
    const help = await run(process.execPath, ["--import", "tsx", "scripts/jwks.ts", "--help"]);
    expect(help.stdout).toMatch(/^usage: npm run jwks -- --key /);
    expect(help.stdout).toContain("npm run jwks -- [--client <name>]");
    const unknown = await run(process.execPath, ["--import", "tsx", "scripts/jwks.ts", "--nope"]).catch(
      (error: { code: number; stderr: string; stdout: string }) => error,
    );
    expect(unknown).toMatchObject({ code: 1, stdout: "" });
    expect((unknown as { stderr: string }).stderr).toMatch(
      /^jwks: Unknown option '--nope'\nusage: npm run jwks/,
    );
  });

  it("fails with one clear line and exit code 1 for a bad key source or an unknown KMS alias", async () => {
    const bad = await run(process.execPath, ["--import", "tsx", "scripts/jwks.ts", "--key", "vault:x"]).catch(
      (error: { code: number; stderr: string; stdout: string }) => error,
    );
    expect(bad).toMatchObject({ code: 1, stdout: "" });
    expect((bad as { stderr: string }).stderr).toMatch(
      /^jwks: expected kms:<key id, key ARN or alias\/\.\.\.>/,
    );

    const missing = await run(process.execPath, [
      "--import",
      "tsx",
      "scripts/jwks.ts",
      "--key",
      "kms:alias/nobody",
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(missing).toMatchObject({ code: 1 });
    expect((missing as { stderr: string }).stderr).toBe(
      "jwks: SIGNING_KEY kms:alias/nobody: no such KMS key or alias in this account and region\n",
    );
  });
});

describe("npm run jwks with several clients", () => {
  const clientEnv = async () => {
    const clients = await Promise.all(
      ["payroll", "vat"].map(async (name) => ({
        name,
        client_id: `mp-${name}`,
        signing_key: `file:${await dir.write(`${name}.pem`, keyFileText(newKey(), "pem"))}`,
        kid: `${name}-key`,
      })),
    );
    return { ...process.env, CLIENTS: JSON.stringify({ clients }) };
  };
  const jwksWith = async (env: NodeJS.ProcessEnv, ...args: string[]) => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/jwks.ts", ...args], { env });
    return (JSON.parse(stdout) as { keys: JWK[] }).keys;
  };

  it("lists every client's key from CLIENTS, or the one --client names", async () => {
    const env = await clientEnv();
    expect((await jwksWith(env)).map((jwk) => jwk.kid)).toEqual(["payroll-key", "vat-key"]);
    expect((await jwksWith(env, "--client", "vat")).map((jwk) => jwk.kid)).toEqual(["vat-key"]);
  });

  it("names the configured clients when --client names none of them", async () => {
    const failed = await jwksWith(await clientEnv(), "--client", "hr").catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed).toMatchObject({
      code: 1,
      stderr: "jwks: --client: no client named hr is configured (configured: payroll, vat)\n",
    });
  });
});
