import type { KeyObject } from "node:crypto";
import { DeleteSecretCommand } from "@aws-sdk/client-secrets-manager";
import { calculateJwkThumbprint, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MaskinportenEmulator, startMaskinportenEmulator } from "../../dev/maskinporten-emulator.ts";
import { createBroker } from "../../lib/broker/index.ts";
import { ConfigError } from "../../lib/config/config-error.ts";
import { loadConfig } from "../../lib/config/index.ts";
import { createSigner } from "../../lib/signer/index.ts";
import {
  REFRESH_INTERVAL_MS,
  RETRY_AFTER_FAILURE_MS,
  type RefreshFailure,
  SecretsManagerSigner,
} from "../../lib/signer/secrets-manager.ts";
import { createSecret, rotateSecret, secretsClient } from "../support/aws.ts";
import { createCertificate } from "../support/certificate.ts";
import { captureOutput } from "../support/output.ts";
import { exchangeAtEmulator, signedGrant } from "../support/signed-grant.ts";
import { keyFileText, newKey } from "../support/signer.ts";

const sm = secretsClient();
let emu: MaskinportenEmulator;
beforeAll(async () => {
  emu = await startMaskinportenEmulator();
});
afterAll(() => emu.close());

const pem = (key: KeyObject) => keyFileText(key, "pem");
const privateJwk = (key: KeyObject) => key.export({ format: "jwk" });
const caKey = newKey();
const ca = createCertificate({ subject: "Test Root CA", key: caKey, ca: true });
const issuedByCa = (key: KeyObject) =>
  createCertificate({ subject: "Broker AS", key, issuer: { subject: "Test Root CA", key: caKey } });
const DAY = 86_400_000;

/** A manual clock: tests move time instead of sleeping. */
const clock = () => {
  let t = Date.now();
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

const load = (secretId: string, extra: Partial<Parameters<typeof SecretsManagerSigner.load>[1]> = {}) =>
  SecretsManagerSigner.load(secretId, { alg: "RS256", client: sm, log: () => {}, ...extra });

describe("SecretsManagerSigner against moto", () => {
  it("signs with a PKCS#8 PEM secret; kid is the RFC 7638 thumbprint and keyRef the secret ARN + kid", async () => {
    const key = newKey();
    const arn = await createSecret(sm, { private_key: pem(key) });
    const signing = await (await load(arn)).current();

    expect(signing.jwk.kid).toBe(await calculateJwkThumbprint(privateJwk(key)));
    expect(signing.header).toEqual({ kid: signing.jwk.kid });
    expect(signing.keyRef).toBe(`${arn}#${signing.jwk.kid}`);
    expect((await exchangeAtEmulator(emu, signing)).status).toBe(200);
  });

  it("signs with a JWK secret under the secret's kid, which wins over SIGNING_KID", async () => {
    const key = newKey("rsa", 3072);
    const arn = await createSecret(sm, { private_key: privateJwk(key), kid: "broker-2026-01" });
    const signing = await (await load(arn, { alg: "RS512", kid: "from-env" })).current();

    expect(signing.header).toEqual({ kid: "broker-2026-01" });
    expect(Object.keys(signing.jwk).sort()).toEqual(["alg", "e", "kid", "kty", "n", "use"]);
    const answer = await exchangeAtEmulator(emu, signing);
    expect(answer).toMatchObject({ status: 200, body: { token_type: "Bearer" } });
  });

  it("sends a certificate chain as x5c (leaf first) when no kid is given, and the emulator trusts it", async () => {
    const key = newKey();
    const leaf = issuedByCa(key);
    const arn = await createSecret(sm, { private_key: pem(key), certificate_chain: [leaf.pem, ca.pem] });
    const signing = await (await load(arn)).current();

    expect(signing.header).toEqual({ x5c: [leaf.x5c, ca.x5c] });
    expect(signing.jwk.x5c).toEqual([leaf.x5c, ca.x5c]);
    expect(decodeProtectedHeader(await signedGrant(signing, emu.issuer, "c"))).toEqual({
      alg: "RS256",
      x5c: [leaf.x5c, ca.x5c],
    });
    expect((await exchangeAtEmulator(emu, signing, { trustedCertificates: [ca.pem] })).status).toBe(200);
  });

  it("uses SIGNING_KID instead of x5c when one is configured beside a certificate", async () => {
    const key = newKey();
    const leaf = createCertificate({ subject: "Broker AS", key });
    const arn = await createSecret(sm, { private_key: pem(key), certificate_chain: [leaf.pem] });
    const signing = await (await load(arn, { kid: "registered" })).current();
    expect(signing.header).toEqual({ kid: "registered" });
    expect((await exchangeAtEmulator(emu, signing)).status).toBe(200);
  });

  it("is what createSigner builds for SIGNING_KEY=secretsmanager:...", async () => {
    const arn = await createSecret(sm, { private_key: pem(newKey()) });
    const signer = await createSigner(
      { key: { source: "secretsmanager", secretId: arn }, alg: "RS384" },
      { secretsManagerClient: sm, log: () => {} },
    );
    expect(signer).toBeInstanceOf(SecretsManagerSigner);
    expect((await exchangeAtEmulator(emu, await signer.current())).status).toBe(200);
  });

  describe("rotation", () => {
    it("uses a rotated secret once the refresh interval has passed, and not before", async () => {
      const time = clock();
      const arn = await createSecret(sm, { private_key: pem(newKey()), kid: "old" });
      const signer = await load(arn, { now: time.now });
      await rotateSecret(sm, arn, { private_key: pem(newKey()), kid: "new" });

      time.advance(REFRESH_INTERVAL_MS - 1);
      expect((await signer.current()).header).toEqual({ kid: "old" });
      time.advance(1);
      const rotated = await signer.current();
      expect(rotated.header).toEqual({ kid: "new" });
      expect(rotated.keyRef).toBe(`${arn}#new`);
      expect((await exchangeAtEmulator(emu, rotated)).status).toBe(200);
    });

    it("coalesces concurrent refreshes into one read and hands every caller the new key", async () => {
      const time = clock();
      const arn = await createSecret(sm, { private_key: pem(newKey()), kid: "v1" });
      const signer = await load(arn, { now: time.now });
      await rotateSecret(sm, arn, { private_key: pem(newKey()), kid: "v2" });
      time.advance(REFRESH_INTERVAL_MS);
      const keys = await Promise.all(Array.from({ length: 10 }, () => signer.current()));
      expect(new Set(keys).size).toBe(1);
      expect(keys[0]?.header).toEqual({ kid: "v2" });
    });

    it("keeps the last good key when the new version is unusable, logs why, and retries later", async () => {
      const time = clock();
      const failures: RefreshFailure[] = [];
      const arn = await createSecret(sm, { private_key: pem(newKey()), kid: "good" });
      const signer = await load(arn, { now: time.now, log: (failure) => failures.push(failure) });
      const stray = newKey();
      const secretText = pem(stray);
      await rotateSecret(sm, arn, secretText);

      time.advance(REFRESH_INTERVAL_MS);
      const kept = await signer.current();
      expect(kept.header).toEqual({ kid: "good" });
      expect((await exchangeAtEmulator(emu, kept)).status).toBe(200);
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({
        event: "signing_key_refresh_failed",
        secret: arn,
        causeName: "ConfigError",
      });
      expect(failures[0]?.detail).toContain("the secret is not JSON");
      expect(failures[0]?.detail).toContain(`still signing with ${arn}#good`);
      expect(JSON.stringify(failures)).not.toContain(secretText.split("\n")[1]);

      await signer.current();
      expect(failures).toHaveLength(1);
      await rotateSecret(sm, arn, { private_key: pem(stray), kid: "fixed" });
      time.advance(RETRY_AFTER_FAILURE_MS);
      expect((await signer.current()).header).toEqual({ kid: "fixed" });
    });

    it("keeps the last good key when the secret is gone, logging the AWS error name", async () => {
      const time = clock();
      const failures: RefreshFailure[] = [];
      const arn = await createSecret(sm, { private_key: pem(newKey()), kid: "last" });
      const signer = await load(arn, { now: time.now, log: (failure) => failures.push(failure) });
      await sm.send(new DeleteSecretCommand({ SecretId: arn, ForceDeleteWithoutRecovery: true }));

      time.advance(REFRESH_INTERVAL_MS);
      expect((await signer.current()).header).toEqual({ kid: "last" });
      expect(failures.map((f) => f.causeName)).toEqual(["ResourceNotFoundException"]);
    });
  });

  it("a broker's failed key refresh is logged through the broker's logger, like every other warning", async () => {
    const time = clock();
    const arn = await createSecret(sm, { private_key: pem(newKey()), kid: "good" });
    const broker = await createBroker(
      loadConfig({
        MASKINPORTEN_ENV: "test",
        MASKINPORTEN_CLIENT_ID: "c",
        SIGNING_KEY: `secretsmanager:${arn}`,
        POLICY: '{"rules":[]}',
      }),
      { signerDeps: { secretsManagerClient: sm, now: time.now } },
    );
    await rotateSecret(sm, arn, "not json");
    time.advance(REFRESH_INTERVAL_MS);
    const output = captureOutput();
    try {
      expect((await broker.jwks()).keys[0]?.kid).toBe("good");
    } finally {
      output.restore();
    }
    expect(output.json()).toEqual([
      expect.objectContaining({
        level: "WARN",
        message: "signing_key_refresh_failed",
        service: "maskinporten-broker",
        secret: arn,
        causeName: "ConfigError",
      }),
    ]);
  });

  describe("refused at load", () => {
    const refused = async (secret: object | string, message: string | RegExp, now?: () => number) => {
      const arn = await createSecret(sm, secret);
      const loading = load(arn, now === undefined ? {} : { now });
      await expect(loading).rejects.toBeInstanceOf(ConfigError);
      await expect(loading).rejects.toThrow(message);
      return loading.catch((error: Error) => error.message);
    };

    it("a certificate that does not belong to the private key", async () => {
      const other = createCertificate({ subject: "Someone Else AS", key: newKey() });
      await refused(
        { private_key: pem(newKey()), certificate_chain: [other.pem] },
        "certificate_chain[0] (CN=Someone Else AS) does not belong to private_key",
      );
    });

    it("an expired certificate, and one not yet valid", async () => {
      const key = newKey();
      const expired = createCertificate({
        subject: "Broker AS",
        key,
        notBefore: new Date(Date.now() - 400 * DAY),
        notAfter: new Date(Date.now() - DAY),
      });
      await refused(
        { private_key: pem(key), certificate_chain: [expired.pem] },
        /certificate_chain\[0\] is not valid now \(valid from .* to .*\)/,
      );
      const future = createCertificate({ subject: "Broker AS", key, notBefore: new Date(Date.now() + DAY) });
      await refused({ private_key: pem(key), certificate_chain: [future.pem] }, /is not valid now/);
    });

    it("a certificate that expires while running: refused on the injected clock's date", async () => {
      const key = newKey();
      const leaf = createCertificate({ subject: "Broker AS", key, notAfter: new Date(Date.now() + DAY) });
      await refused(
        { private_key: pem(key), certificate_chain: [leaf.pem] },
        /is not valid now/,
        () => Date.now() + 2 * DAY,
      );
    });

    it("a chain not listed leaf first", async () => {
      const key = newKey();
      const leaf = issuedByCa(key);
      const unrelated = createCertificate({ subject: "Other CA", key: newKey(), ca: true });
      await refused(
        { private_key: pem(key), certificate_chain: [leaf.pem, unrelated.pem] },
        "certificate_chain[0] is not issued by certificate_chain[1]; list the chain leaf first",
      );
    });

    it("content that is not the documented format, without echoing the secret", async () => {
      const key = pem(newKey());
      const message = await refused(key, "the secret is not JSON");
      expect(message).not.toContain(key.split("\n")[1]);
      await refused({ private_key: key, certificate: "x" }, "unknown member(s) certificate");
      await refused({ kid: "k" }, "private_key: expected a PKCS#8 PEM string or a private JWK object");
      await refused({ private_key: key, kid: "not a kid!" }, "kid: expected letters, digits");
      await refused({ private_key: "not a key" }, "private_key: not a PKCS#8 PEM or private JWK");
      await refused(
        { private_key: pem(newKey("ec-p256")) },
        "unsupported key type ec for RS256; Maskinporten accepts only RSA keys",
      );
    });

    it("an unknown secret, as a configuration mistake", async () => {
      const loading = load("no-such-secret");
      await expect(loading).rejects.toBeInstanceOf(ConfigError);
      await expect(loading).rejects.toThrow("secretsmanager:no-such-secret: no such secret");
    });
  });
});
