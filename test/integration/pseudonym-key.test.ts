// PID_PSEUDONYM_KEY from each source: a stable HMAC-SHA-256 per person, a different one per person, unfit keys refused.
import { createHmac } from "node:crypto";
import { VerifyMacCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/config/config-error.ts";
import { loadPidPseudonymizer } from "../../lib/pseudonym/pseudonym-key.ts";
import { createKmsKey, createSecret, kmsClient, secretsClient } from "../support/aws.ts";
import { PID_A, PID_B } from "../support/pid.ts";
import { keyDirectory } from "../support/signer.ts";

const KEY_TEXT = "5f1c0a9e3b7d4c2a8e6f0b1d3c5a7e9f2b4d6f8a0c2e4a6b8d0f2a4c6e8b0d2f";
const hmac = (pid: string) => createHmac("sha256", KEY_TEXT).update(pid).digest("hex");

let dir: Awaited<ReturnType<typeof keyDirectory>>;
beforeAll(async () => {
  dir = await keyDirectory();
});
afterAll(() => dir.remove());

describe("pid pseudonyms from a file or a secret", () => {
  it("are HMAC-SHA-256 of the pid under the file's text, as openssl computes it", async () => {
    const path = await dir.write("pseudonym.key", `${KEY_TEXT}\n`);
    const pseudonyms = await loadPidPseudonymizer({ source: "file", path });
    expect(await pseudonyms.pseudonym(PID_A)).toBe(hmac(PID_A));
    expect(await pseudonyms.pseudonym(PID_A)).toMatch(/^[0-9a-f]{64}$/);
    expect(await pseudonyms.pseudonym(PID_B)).not.toBe(await pseudonyms.pseudonym(PID_A));
    expect(pseudonyms.keyRef).toBe(`file:${path}`);
  });

  it("are the same from a Secrets Manager secret holding the same text", async () => {
    const secretId = await createSecret(secretsClient(), KEY_TEXT);
    const pseudonyms = await loadPidPseudonymizer({ source: "secretsmanager", secretId });
    expect(await pseudonyms.pseudonym(PID_B)).toBe(hmac(PID_B));
  });

  it("refuse a key shorter than 32 bytes, a missing file and a missing secret, naming the variable", async () => {
    const short = await dir.write("short.key", "too-short");
    const refusals = [
      () => loadPidPseudonymizer({ source: "file", path: short }),
      () => loadPidPseudonymizer({ source: "file", path: `${short}.missing` }),
      () => loadPidPseudonymizer({ source: "secretsmanager", secretId: "no-such-pseudonym-secret" }),
    ];
    for (const refusal of refusals) {
      const error = await refusal().then(
        () => expect.unreachable("expected a refusal"),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^PID_PSEUDONYM_KEY /);
      expect((error as Error).message).not.toContain("too-short");
    }
  });
});

describe("pid pseudonyms from a KMS HMAC key (kms:GenerateMac)", () => {
  const kms = kmsClient();

  it("are KMS's HMAC-SHA-256 of the pid: stable per person, different per person, verifiable by KMS", async () => {
    const key = await createKmsKey(kms, "HMAC_256", "GENERATE_VERIFY_MAC");
    const pseudonyms = await loadPidPseudonymizer({ source: "kms", keyId: key.alias });
    const a = await pseudonyms.pseudonym(PID_A);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await pseudonyms.pseudonym(PID_A)).toBe(a);
    expect(await pseudonyms.pseudonym(PID_B)).not.toBe(a);
    // KMS answers the key ARN; moto its id. Never the alias: the record names the key that computed it.
    expect([key.arn, key.keyId]).toContain(pseudonyms.keyRef);
    const verified = await kms.send(
      new VerifyMacCommand({
        KeyId: key.keyId,
        MacAlgorithm: "HMAC_SHA_256",
        Message: new TextEncoder().encode(PID_A),
        Mac: Buffer.from(a, "hex"),
      }),
    );
    expect(verified.MacValid).toBe(true);
  });

  it("refuses at load a signing key (not GENERATE_VERIFY_MAC) and an unknown key", async () => {
    const rsa = await createKmsKey(kms);
    await expect(loadPidPseudonymizer({ source: "kms", keyId: rsa.keyId })).rejects.toThrow(
      /^PID_PSEUDONYM_KEY kms:.*HMAC_256 KMS key with key usage GENERATE_VERIFY_MAC/,
    );
    await expect(
      loadPidPseudonymizer({ source: "kms", keyId: "alias/no-such-pseudonym-key" }),
    ).rejects.toBeInstanceOf(ConfigError);
  });
});
