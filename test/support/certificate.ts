// Test support: minimal X.509 v3 certificates (RSA, SHA-256) built with node:crypto alone, for the x5c path.
import { createPublicKey, type KeyObject, randomBytes, sign, X509Certificate } from "node:crypto";

const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  const length: number[] = [];
  for (let n = body.length; n > 0; n >>= 8) length.unshift(n & 0xff);
  const header = body.length < 0x80 ? [body.length] : [0x80 | length.length, ...length];
  return Buffer.concat([Buffer.from([tag, ...header]), body]);
};
const seq = (...parts: Buffer[]) => tlv(0x30, ...parts);
const int = (bytes: Buffer) =>
  tlv(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
const bool = tlv(0x01, Buffer.from([0xff]));

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const encoded = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) encoded.unshift((v & 0x7f) | 0x80);
    bytes.push(...encoded);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function time(date: Date): Buffer {
  const digits = date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${digits}Z`));
}

const commonName = (cn: string) => seq(tlv(0x31, seq(oid("2.5.4.3"), tlv(0x0c, Buffer.from(cn, "utf8")))));
const SHA256_WITH_RSA = seq(oid("1.2.840.113549.1.1.11"), tlv(0x05));
const CA_EXTENSIONS = tlv(0xa3, seq(seq(oid("2.5.29.19"), bool, tlv(0x04, seq(bool)))));

export interface Certificate {
  pem: string;
  /** base64 DER: one x5c entry. */
  x5c: string;
  x509: X509Certificate;
}

export interface CertificateSpec {
  subject: string;
  /** The subject's private key (the public half goes into the certificate). */
  key: KeyObject;
  /** Signer; absent for a self-signed certificate. */
  issuer?: { subject: string; key: KeyObject };
  notBefore?: Date;
  notAfter?: Date;
  ca?: boolean;
}

export function createCertificate(spec: CertificateSpec): Certificate {
  const issuer = spec.issuer ?? { subject: spec.subject, key: spec.key };
  const notBefore = spec.notBefore ?? new Date(Date.now() - 3_600_000);
  const notAfter = spec.notAfter ?? new Date(Date.now() + 365 * 86_400_000);
  const serial = randomBytes(12);
  // Positive and minimal: DER refuses a leading zero byte, so the top byte is 0x40..0x7f.
  serial[0] = ((serial[0] ?? 0) & 0x3f) | 0x40;
  const tbs = seq(
    tlv(0xa0, int(Buffer.from([2]))),
    int(serial),
    SHA256_WITH_RSA,
    commonName(issuer.subject),
    seq(time(notBefore), time(notAfter)),
    commonName(spec.subject),
    createPublicKey(spec.key).export({ type: "spki", format: "der" }),
    ...(spec.ca === true ? [CA_EXTENSIONS] : []),
  );
  const der = seq(tbs, SHA256_WITH_RSA, tlv(0x03, Buffer.from([0]), sign("sha256", tbs, issuer.key)));
  const x5c = der.toString("base64");
  const pem = `-----BEGIN CERTIFICATE-----\n${x5c.match(/.{1,64}/g)?.join("\n")}\n-----END CERTIFICATE-----\n`;
  return { pem, x5c, x509: new X509Certificate(der) };
}
