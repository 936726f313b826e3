import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MaskinportenEmulator, startMaskinportenEmulator } from "../../dev/maskinporten-emulator.ts";
import { MaskinportenClient } from "../../lib/maskinporten/client.ts";
import type { AttemptRecord } from "../../lib/maskinporten/types.ts";
import { inMemorySigningKey, kidOf } from "../../lib/signer/keys.ts";
import type { Signer } from "../../lib/signer/signer.ts";
import { createCertificate } from "../support/certificate.ts";
import { asParsed } from "../support/request.ts";
import { freshFileSigner, newKey } from "../support/signer.ts";

const SCOPES = ["skatteetaten:mva", "skatteetaten:inntektsmottak"];
const CONSUMER = "910000000";
let emu: MaskinportenEmulator;

beforeAll(async () => {
  emu = await startMaskinportenEmulator({ expiresIn: 599 });
});
afterAll(() => emu.close());

const clientFor = (clientId: string, signer: Signer) =>
  new MaskinportenClient({ issuer: emu.issuer, tokenUrl: emu.tokenUrl, clientId, timeoutMs: 3000 }, signer);

const verifiedClaims = async (accessToken: string) =>
  (await jwtVerify(accessToken, createLocalJWKSet(emu.publicJwks), { issuer: emu.issuer })).payload;

describe("minting a real access token end to end", () => {
  it.each(["RS256", "RS384", "RS512"] as const)(
    "fresh key -> FileSigner (%s) -> emulator -> a token for exactly the requested scope",
    async (alg) => {
      const { signer, key } = await freshFileSigner({ alg });
      const clientId = `broker-${alg}`;
      emu.registerClient({ clientId, jwks: [key.jwk], scopes: [...SCOPES, "other:scope"] });

      const attempts: AttemptRecord[] = [];
      const result = await clientFor(clientId, signer).requestToken(asParsed({ scopes: SCOPES }), {
        attempts,
      });

      expect(result.token).toMatchObject({ token_type: "Bearer", expires_in: 599, scope: SCOPES.join(" ") });
      const claims = await verifiedClaims(result.token.access_token);
      expect(claims).toMatchObject({
        client_id: clientId,
        scope: SCOPES.join(" "),
        client_amr: "private_key_jwt",
      });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(599);
      const grant = emu.acceptedGrants.at(-1);
      expect(grant).toMatchObject({ iss: clientId, aud: emu.issuer, scope: SCOPES.join(" ") });
      expect((grant?.exp ?? 0) - (grant?.iat ?? 0)).toBe(30);
      expect(grant?.jti).toBe(attempts[0]?.grantJti);
    },
  );

  it("mints a delegated token: consumer is the delegating org, supplier is ours", async () => {
    const { signer, key } = await freshFileSigner({ format: "jwk" });
    emu.registerClient({
      clientId: "broker-delegated",
      orgNumber: "974760673",
      jwks: [key.jwk],
      scopes: SCOPES,
      delegations: [{ consumerOrg: CONSUMER, scopes: ["skatteetaten:mva"] }],
    });
    const result = await clientFor("broker-delegated", signer).requestToken(
      asParsed({ scopes: ["skatteetaten:mva"], consumerOrg: CONSUMER }),
    );
    const claims = await verifiedClaims(result.token.access_token);
    expect(claims.consumer).toEqual({ authority: "iso6523-actorid-upis", ID: `0192:${CONSUMER}` });
    expect(claims.supplier).toEqual({ authority: "iso6523-actorid-upis", ID: "0192:974760673" });
  });

  it("mints a system-user token and an audience-restricted token", async () => {
    const { signer, key } = await freshFileSigner();
    emu.registerClient({
      clientId: "broker-system",
      jwks: [key.jwk],
      scopes: ["altinn:a"],
      systemUsers: [{ orgNumber: "310000001", id: "su-9" }],
    });
    const client = clientFor("broker-system", signer);
    const system = await verifiedClaims(
      (await client.requestToken(asParsed({ scopes: ["altinn:a"], systemuserOrg: "310000001" }))).token
        .access_token,
    );
    expect(system.authorization_details).toEqual([
      expect.objectContaining({
        systemuser_id: ["su-9"],
        systemuser_org: { authority: "iso6523-actorid-upis", ID: "0192:310000001" },
      }),
    ]);
    const restricted = await verifiedClaims(
      (await client.requestToken(asParsed({ scopes: ["altinn:a"], resource: ["https://api.example.no/x"] })))
        .token.access_token,
    );
    expect(restricted.aud).toBe("https://api.example.no/x");
  });
});

describe("the x5c path (business certificate instead of a registered key)", () => {
  const caKey = newKey();
  const ca = createCertificate({ subject: "Test CA", key: caKey, ca: true });
  const otherCaKey = newKey();
  const otherCa = createCertificate({ subject: "Other CA", key: otherCaKey, ca: true });

  /** A Signer whose grant header carries x5c (leaf first), as the Secrets Manager signer will with a certificate. */
  async function certificateSigner(
    issuer: { subject: string; key: ReturnType<typeof newKey> },
    validity: { notBefore?: Date; notAfter?: Date } = {},
  ): Promise<Signer> {
    const key = newKey();
    const leaf = createCertificate({ subject: "Broker AS", key, issuer, ...validity });
    const x5c = [leaf.x5c];
    const signingKey = inMemorySigningKey(key, "RS256", {
      kid: kidOf(key, undefined),
      header: { x5c },
      keyRef: "test:x5c",
      x5c,
    });
    return { current: async () => signingKey };
  }

  it("builds certificates node:crypto accepts: the leaf is issued by the CA", async () => {
    const leaf = createCertificate({
      subject: "Leaf",
      key: newKey(),
      issuer: { subject: "Test CA", key: caKey },
    });
    expect(leaf.x509.checkIssued(ca.x509)).toBe(true);
    expect(leaf.x509.verify(ca.x509.publicKey)).toBe(true);
    expect(leaf.x509.verify(otherCa.x509.publicKey)).toBe(false);
    expect(ca.x509.ca).toBe(true);
  });

  it("mints a token with a certificate chained to a trusted CA", async () => {
    emu.registerClient({ clientId: "broker-cert", trustedCertificates: [ca.pem], scopes: SCOPES });
    const signer = await certificateSigner({ subject: "Test CA", key: caKey });
    const result = await clientFor("broker-cert", signer).requestToken(
      asParsed({ scopes: ["skatteetaten:mva"] }),
    );
    expect(await verifiedClaims(result.token.access_token)).toMatchObject({
      client_id: "broker-cert",
      scope: "skatteetaten:mva",
      client_amr: "virksomhetssertifikat",
    });
  });

  it("refuses a certificate from an untrusted CA, an expired one, and x5c from a client with registered keys", async () => {
    emu.registerClient({ clientId: "broker-cert-2", trustedCertificates: [ca.pem], scopes: SCOPES });
    const request = asParsed({ scopes: ["skatteetaten:mva"] });
    const untrusted = await certificateSigner({ subject: "Other CA", key: otherCaKey });
    await expect(clientFor("broker-cert-2", untrusted).requestToken(request)).rejects.toMatchObject({
      upstreamError: "invalid_grant",
      upstreamErrorDescription: expect.stringContaining("MP-120"),
    });
    const expired = await certificateSigner(
      { subject: "Test CA", key: caKey },
      { notBefore: new Date(Date.now() - 3 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) },
    );
    await expect(clientFor("broker-cert-2", expired).requestToken(request)).rejects.toMatchObject({
      upstreamError: "invalid_grant",
      upstreamErrorDescription: expect.stringContaining("MP-121"),
    });
    const { key } = await freshFileSigner();
    emu.registerClient({
      clientId: "broker-keyed",
      jwks: [key.jwk],
      trustedCertificates: [ca.pem],
      scopes: SCOPES,
    });
    const withCert = await certificateSigner({ subject: "Test CA", key: caKey });
    await expect(clientFor("broker-keyed", withCert).requestToken(request)).rejects.toMatchObject({
      upstreamError: "invalid_client",
    });
  });
});
