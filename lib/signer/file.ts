// FileSigner: a PKCS#8 PEM or JWK private key read from a local file (local runs, tests, break-glass).
import { readFileSync } from "node:fs";
import { ConfigError } from "../config/config-error.ts";
import type { SigningAlg } from "../config/index.ts";
import { assertAlgFits, inMemorySigningKey, kidOf, parsePrivateKey } from "./keys.ts";
import type { Signer, SigningKey } from "./signer.ts";

export class FileSigner implements Signer {
  private constructor(private readonly key: SigningKey) {}

  /** Reads and checks the key once; a missing file, bad key or alg mismatch throws ConfigError. */
  static async load(
    path: string,
    options: { alg: SigningAlg; kid?: string | undefined },
  ): Promise<FileSigner> {
    const origin = `SIGNING_KEY file:${path}`;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new ConfigError(
        `${origin}: cannot read the key file (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
    const privateKey = parsePrivateKey(text, origin);
    assertAlgFits(privateKey, options.alg, origin);
    const kid = kidOf(privateKey, options.kid);
    return new FileSigner(
      inMemorySigningKey(privateKey, options.alg, { kid, header: { kid }, keyRef: `file:${path}#${kid}` }),
    );
  }

  async current(): Promise<SigningKey> {
    return this.key;
  }
}
