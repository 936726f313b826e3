// The local access keys `npm start` accepts: created once with random keys (mode 0600), loaded on later starts.
import { randomBytes as cryptoRandomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import * as v from "valibot";
import { issuePath } from "../lib/schema/index.ts";
import { isPrincipalArn } from "./identity.ts";
import type { KnownCredential } from "./sigv4.ts";

export interface LocalCredential extends KnownCredential {
  accessKeyId: string;
}

export interface LocalCredentials {
  /** True when this call created the file: the only time its keys should be printed. */
  created: boolean;
  path: string;
  credentials: LocalCredential[];
}

export const DEFAULT_CREDENTIALS_PATH = ".local/credentials.json";
export const DEFAULT_PRINCIPAL_ARN = "arn:aws:iam::000000000000:role/local-service";

const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SECRET_ALPHABET = `${UPPER_ALNUM}abcdefghijklmnopqrstuvwxyz+/`;

const credentialSchema = v.pipe(
  v.strictObject({
    accessKeyId: v.pipe(
      v.string(),
      v.regex(/^[A-Z0-9]{16,128}$/, "an access key id is 16-128 uppercase letters/digits"),
    ),
    secretAccessKey: v.pipe(v.string(), v.minLength(1)),
    sessionToken: v.optional(v.pipe(v.string(), v.minLength(1))),
    principalArn: v.pipe(
      v.string(),
      v.check(isPrincipalArn, "not an IAM role, IAM user or STS assumed-role ARN"),
    ),
  }),
  // As in AWS: AKIA… keys are long-term and never come with a session token; ASIA… keys are temporary and always do.
  v.forward(
    v.check(
      (c) => !(c.accessKeyId.startsWith("AKIA") && c.sessionToken !== undefined),
      "an AKIA… access key is long-term and has no session token (temporary keys start with ASIA)",
    ),
    ["sessionToken"],
  ),
  v.forward(
    v.check(
      (c) => !(c.accessKeyId.startsWith("ASIA") && c.sessionToken === undefined),
      "an ASIA… access key is temporary and needs its sessionToken",
    ),
    ["sessionToken"],
  ),
);
const fileSchema = v.object({ credentials: v.pipe(v.array(credentialSchema), v.minLength(1)) });

export interface CredentialsOptions {
  path?: string;
  principalArn?: string;
  /** Source of randomness; tests pass a deterministic one. */
  randomBytes?: (size: number) => Buffer;
}

/** `length` characters drawn uniformly from `alphabet` (rejection sampling: no modulo bias). */
export function randomString(
  alphabet: string,
  length: number,
  randomBytes: (size: number) => Buffer,
): string {
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

/** A fresh long-term key pair in AWS's shapes: AKIA + 16 uppercase alphanumerics, a 40-character secret. */
export function newCredential(principalArn: string, randomBytes: (size: number) => Buffer): LocalCredential {
  return {
    accessKeyId: `AKIA${randomString(UPPER_ALNUM, 16, randomBytes)}`,
    secretAccessKey: randomString(SECRET_ALPHABET, 40, randomBytes),
    principalArn,
  };
}

/** Reads an existing credentials file (the caller side: `npm run token`); never creates one. */
export async function loadCredentials(path: string): Promise<LocalCredential[]> {
  const parsed = v.safeParse(fileSchema, JSON.parse(await readFile(path, "utf8")));
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw new Error(
      `Invalid local credentials file ${path}: ${issuePath(issue).join(".")}: ${issue.message}`,
    );
  }
  return parsed.output.credentials.map(({ sessionToken, ...rest }) =>
    sessionToken === undefined ? rest : { ...rest, sessionToken },
  );
}

function isFileExists(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "EEXIST";
}

export async function loadOrCreateCredentials(options: CredentialsOptions = {}): Promise<LocalCredentials> {
  const path = options.path ?? DEFAULT_CREDENTIALS_PATH;
  const credential = newCredential(
    options.principalArn ?? DEFAULT_PRINCIPAL_ARN,
    options.randomBytes ?? cryptoRandomBytes,
  );
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    // "wx": never overwrite; a concurrent first start that loses the race loads the winner's file.
    await writeFile(path, `${JSON.stringify({ credentials: [credential] }, null, 2)}\n`, {
      flag: "wx",
      mode: 0o600,
    });
    return { created: true, path, credentials: [credential] };
  } catch (error) {
    if (!isFileExists(error)) throw error;
  }
  return { created: false, path, credentials: await loadCredentials(path) };
}

/** The verifier's view of the credentials: access key id -> secret, token and principal. */
export function credentialLookup(
  credentials: readonly LocalCredential[],
): (accessKeyId: string) => KnownCredential | undefined {
  const byId = new Map(credentials.map((c) => [c.accessKeyId, c]));
  return (accessKeyId) => byId.get(accessKeyId);
}
