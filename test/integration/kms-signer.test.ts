import type { KeySpec } from "@aws-sdk/client-kms";
import { calculateJwkThumbprint, compactVerify, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MaskinportenEmulator, startMaskinportenEmulator } from "../../dev/maskinporten-emulator.ts";
import { ConfigError } from "../../lib/config/config-error.ts";
import { createSigner } from "../../lib/signer/index.ts";
import { KmsSigner } from "../../lib/signer/kms.ts";
import { createKmsKey, kmsClient, kmsPublicKey, type TestKmsKey } from "../support/aws.ts";
import { exchangeAtEmulator, signedGrant } from "../support/signed-grant.ts";

const kms = kmsClient();
let emu: MaskinportenEmulator;
const keys = new Map<KeySpec, TestKmsKey>();
const SPECS = ["RSA_2048", "RSA_3072", "RSA_4096"] as const;
const ALGS = ["RS256", "RS384", "RS512"] as const;

beforeAll(async () => {
  emu = await startMaskinportenEmulator();
  for (const spec of SPECS) keys.set(spec, await createKmsKey(kms, spec));
});
afterAll(() => emu.close());

const keyOf = (spec: KeySpec): TestKmsKey => {
  const key = keys.get(spec);
  if (key === undefined) throw new Error(`no ${spec} key`);
  return key;
};

describe("KmsSigner against moto", () => {
  describe.each(SPECS)("an %s key", (spec) => {
    it.each(ALGS)(
      "signs %s grants that verify against GetPublicKey and the emulator accepts",
      async (alg) => {
        const testKey = keyOf(spec);
        const signer = await KmsSigner.load(testKey.alias, { alg, client: kms });
        const key = await signer.current();

        const grant = await signedGrant(key, emu.issuer, "verify-only");
        const { protectedHeader } = await compactVerify(grant, await kmsPublicKey(kms, testKey.keyId));
        expect(protectedHeader).toEqual({ alg, kid: key.jwk.kid });

        const answer = await exchangeAtEmulator(emu, key);
        expect(answer.status).toBe(200);
        expect(answer.body).toMatchObject({ token_type: "Bearer", access_token: expect.any(String) });
      },
    );
  });

  it("names the key by its RFC 7638 thumbprint, or by SIGNING_KID when given; keyRef is the resolved key", async () => {
    const testKey = keyOf("RSA_2048");
    const byThumbprint = await (await KmsSigner.load(testKey.alias, { alg: "RS256", client: kms })).current();
    const publicKey = await kmsPublicKey(kms, testKey.keyId);
    expect(byThumbprint.jwk.kid).toBe(await calculateJwkThumbprint(publicKey));
    expect(byThumbprint.jwk).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" });
    expect(Object.keys(byThumbprint.jwk).sort()).toEqual(["alg", "e", "kid", "kty", "n", "use"]);
    // GetPublicKey answers with the key's ARN in AWS (moto: the bare key id), never with the alias.
    expect([testKey.arn, testKey.keyId]).toContain(byThumbprint.keyRef);

    const named = await (
      await KmsSigner.load(testKey.arn, { alg: "RS512", kid: "broker-2026", client: kms })
    ).current();
    expect(named.header).toEqual({ kid: "broker-2026" });
    expect(decodeProtectedHeader(await signedGrant(named, emu.issuer, "c"))).toEqual({
      alg: "RS512",
      kid: "broker-2026",
    });
  });

  it("is what createSigner builds for SIGNING_KEY=kms:...", async () => {
    const testKey = keyOf("RSA_2048");
    const signer = await createSigner(
      { key: { source: "kms", keyId: testKey.alias }, alg: "RS384" },
      { kmsClient: kms },
    );
    expect(signer).toBeInstanceOf(KmsSigner);
    expect((await exchangeAtEmulator(emu, await signer.current())).status).toBe(200);
  });

  it.each<[string, KeySpec, "SIGN_VERIFY" | "ENCRYPT_DECRYPT", RegExp]>([
    ["an ECC key", "ECC_NIST_P256", "SIGN_VERIFY", /not RSA; Maskinporten accepts only RS256\/RS384\/RS512/],
    ["an ENCRYPT_DECRYPT key", "RSA_2048", "ENCRYPT_DECRYPT", /usage is ENCRYPT_DECRYPT.*SIGN_VERIFY/],
  ])("refuses %s at start with a clear ConfigError", async (_name, spec, usage, message) => {
    const testKey = await createKmsKey(kms, spec, usage);
    const loading = KmsSigner.load(testKey.alias, { alg: "RS256", client: kms });
    await expect(loading).rejects.toBeInstanceOf(ConfigError);
    await expect(loading).rejects.toThrow(message);
    await expect(loading).rejects.toThrow(`SIGNING_KEY kms:${testKey.alias}`);
  });

  it("refuses an unknown alias at start as a configuration mistake", async () => {
    const loading = KmsSigner.load("alias/does-not-exist", { alg: "RS256", client: kms });
    await expect(loading).rejects.toBeInstanceOf(ConfigError);
    await expect(loading).rejects.toThrow("kms:alias/does-not-exist: no such KMS key or alias");
  });
});
