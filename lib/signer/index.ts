// Picks the key source named by SIGNING_KEY and loads it once per cold start.
import type { Config } from "../config/index.ts";
import { FileSigner } from "./file.ts";
import type { Signer } from "./signer.ts";

export type { KeyHeader, PublicJwk, Signer, SigningKey } from "./signer.ts";

export async function createSigner(signing: Config["signing"]): Promise<Signer> {
  const options = { alg: signing.alg, ...(signing.kid === undefined ? {} : { kid: signing.kid }) };
  switch (signing.key.source) {
    case "file":
      return FileSigner.load(signing.key.path, options);
    default:
      throw new Error(`key source ${signing.key.source} is not implemented yet`);
  }
}
