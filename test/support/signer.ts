// Test support: a FileSigner over a freshly generated key written to a temporary file (PEM or JWK).
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SigningAlg } from "../../lib/config/index.ts";
import { FileSigner } from "../../lib/signer/file.ts";

export type KeyFormat = "pem" | "jwk";

export function newKey(type: "rsa" | "ec-p256" | "ec-p384" = "rsa", modulusLength = 2048): KeyObject {
  if (type === "rsa") return generateKeyPairSync("rsa", { modulusLength }).privateKey;
  return generateKeyPairSync("ec", { namedCurve: type === "ec-p256" ? "P-256" : "P-384" }).privateKey;
}

export function keyFileText(key: KeyObject, format: KeyFormat): string {
  return format === "pem"
    ? (key.export({ type: "pkcs8", format: "pem" }) as string)
    : JSON.stringify(key.export({ format: "jwk" }));
}

/** A scratch directory for key files; `remove()` deletes it. */
export async function keyDirectory(): Promise<{
  write(name: string, text: string): Promise<string>;
  remove(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), "mp-broker-keys-"));
  return {
    async write(name, text) {
      const path = join(dir, name);
      await writeFile(path, text, { mode: 0o600 });
      return path;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Generates an RSA key, writes it, loads it through FileSigner. */
export async function freshFileSigner(options: { alg?: SigningAlg; kid?: string; format?: KeyFormat } = {}) {
  const dir = await keyDirectory();
  try {
    const path = await dir.write("key", keyFileText(newKey(), options.format ?? "pem"));
    const signer = await FileSigner.load(path, {
      alg: options.alg ?? "RS256",
      ...(options.kid === undefined ? {} : { kid: options.kid }),
    });
    return { signer, key: await signer.current() };
  } finally {
    await dir.remove();
  }
}
