import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { calculateJwkThumbprint, compactVerify, importJWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/config/config-error.ts";
import type { SigningAlg } from "../../lib/config/index.ts";
import { buildGrantClaims, signGrant } from "../../lib/grant/index.ts";
import { FileSigner } from "../../lib/signer/file.ts";
import type { SigningKey } from "../../lib/signer/signer.ts";
import { asParsed } from "../support/request.ts";
import { type KeyFormat, keyDirectory, keyFileText, newKey } from "../support/signer.ts";

let dir: Awaited<ReturnType<typeof keyDirectory>>;
beforeAll(async () => {
  dir = await keyDirectory();
});
afterAll(() => dir.remove());

let files = 0;
const load = async (text: string, alg: SigningAlg, kid?: string) =>
  FileSigner.load(await dir.write(`key-${files++}`, text), { alg, ...(kid === undefined ? {} : { kid }) });

/** Signs a grant with the key and verifies it with nothing but the public JWK. */
async function signsVerifiably(key: SigningKey): Promise<void> {
  const claims = buildGrantClaims(asParsed({ scopes: ["a:b"] }), {
    issuer: "https://test.maskinporten.no/",
    clientId: "c",
    now: 1_700_000_000,
    jti: crypto.randomUUID(),
  });
  const jws = await signGrant(key, claims);
  const { protectedHeader, payload } = await compactVerify(jws, await importJWK(key.jwk, key.alg));
  expect(protectedHeader).toEqual({ alg: key.alg, ...key.header });
  expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(claims);
}

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi"];

describe("FileSigner", () => {
  it.each<[string, KeyFormat, SigningAlg]>([
    ["RSA PKCS#8 PEM", "pem", "RS256"],
    ["RSA JWK", "jwk", "RS512"],
  ])("loads an %s and signs grants its public JWK verifies", async (_name, format, alg) => {
    const key = await (await load(keyFileText(newKey(), format), alg)).current();
    expect(key.alg).toBe(alg);
    expect(key.jwk).toMatchObject({ alg, use: "sig", kty: "RSA" });
    for (const member of PRIVATE_MEMBERS) expect(key.jwk).not.toHaveProperty(member);
    await signsVerifiably(key);
  });

  it("names the key by its RFC 7638 thumbprint, the same for the PEM and the JWK of one key", async () => {
    const privateKey = newKey();
    const fromPem = await (await load(keyFileText(privateKey, "pem"), "RS256")).current();
    const fromJwk = await (await load(keyFileText(privateKey, "jwk"), "RS256")).current();
    const thumbprint = await calculateJwkThumbprint(createPublicKey(privateKey));
    expect(fromPem.header).toEqual({ kid: thumbprint });
    expect(fromPem.jwk.kid).toBe(thumbprint);
    expect(fromJwk.jwk.kid).toBe(thumbprint);
    expect(fromPem.keyRef).toMatch(new RegExp(`^file:.+#${thumbprint}$`));
  });

  it("uses the configured kid when given", async () => {
    const key = await (await load(keyFileText(newKey(), "pem"), "RS384", "broker-2026")).current();
    expect(key.header).toEqual({ kid: "broker-2026" });
    expect(key.jwk.kid).toBe("broker-2026");
    await signsVerifiably(key);
  });

  it.each<[string, "ec-p256" | "ec-p384", KeyFormat]>([
    ["an EC P-256 PEM", "ec-p256", "pem"],
    ["an EC P-384 JWK", "ec-p384", "jwk"],
  ])("refuses %s: Maskinporten accepts only RSA keys", async (_name, type, format) => {
    await expect(load(keyFileText(newKey(type), format), "RS256")).rejects.toThrow(
      "unsupported key type ec for RS256; Maskinporten accepts only RSA keys",
    );
  });

  it("refuses RSA keys under 2048 bits", async () => {
    const weak = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey;
    await expect(load(keyFileText(weak, "pem"), "RS256")).rejects.toThrow(/2048/);
  });

  it("refuses encrypted, public-only and garbage files without echoing their content", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const encrypted = privateKey.export({
      type: "pkcs8",
      format: "pem",
      cipher: "aes-256-cbc",
      passphrase: "pw",
    });
    const publicPem = publicKey.export({ type: "spki", format: "pem" }) as string;
    for (const text of [encrypted as string, publicPem, "not a key at all"]) {
      const error = await load(text, "RS256").then(
        () => expect.unreachable("expected a ConfigError"),
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain("SIGNING_KEY file:");
      const body = text.split("\n")[1] ?? text;
      expect(error.message).not.toContain(body);
    }
  });

  it("never quotes a malformed private JWK in the error (JSON.parse would)", async () => {
    const error = await load('{"kty":"RSA","d": SECRETEXPONENT', "RS256").then(
      () => expect.unreachable("expected a ConfigError"),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      `SIGNING_KEY file:${error.message.split("file:")[1]?.split(":")[0]}: the private JWK is not valid JSON`,
    );
    expect(error.message).not.toContain("SECRET");
  });

  it("names the missing file in the error", async () => {
    await expect(FileSigner.load("/nonexistent/key.pem", { alg: "RS256" })).rejects.toThrow(
      /SIGNING_KEY file:\/nonexistent\/key\.pem.*ENOENT/,
    );
  });
});
