import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  credentialLookup,
  DEFAULT_PRINCIPAL_ARN,
  loadOrCreateCredentials,
  randomString,
} from "../../dev/credentials.ts";

async function tempPath(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), "mpb-cred-")), ".local", "credentials.json");
}

describe("local credentials file", () => {
  it("creates random AWS-shaped keys for the local principal on first start, mode 0600", async () => {
    const path = await tempPath();
    const first = await loadOrCreateCredentials({ path });
    expect(first.created).toBe(true);
    const [credential] = first.credentials;
    expect(credential?.accessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
    expect(credential?.secretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(credential?.principalArn).toBe(DEFAULT_PRINCIPAL_ARN);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ credentials: first.credentials });
  });

  it("loads the same keys on later starts instead of creating new ones", async () => {
    const path = await tempPath();
    const first = await loadOrCreateCredentials({ path });
    const again = await loadOrCreateCredentials({
      path,
      principalArn: "arn:aws:iam::000000000000:role/other",
    });
    expect(again).toEqual({ created: false, path, credentials: first.credentials });
  });

  it("gives two fresh files different keys", async () => {
    const [a, b] = await Promise.all([
      loadOrCreateCredentials({ path: await tempPath() }),
      loadOrCreateCredentials({ path: await tempPath() }),
    ]);
    expect(a.credentials[0]?.accessKeyId).not.toBe(b.credentials[0]?.accessKeyId);
    expect(a.credentials[0]?.secretAccessKey).not.toBe(b.credentials[0]?.secretAccessKey);
  });

  it("keeps an edited file's extra keys and session tokens, and looks keys up by id", async () => {
    const path = await tempPath();
    await loadOrCreateCredentials({ path });
    const extra = {
      accessKeyId: "ASIAEXTRA00000000000",
      secretAccessKey: "x".repeat(40),
      sessionToken: "tok",
      principalArn: "arn:aws:sts::111122223333:assumed-role/payroll-svc/run-1",
    };
    const file = JSON.parse(await readFile(path, "utf8"));
    await writeFile(path, JSON.stringify({ credentials: [...file.credentials, extra] }));
    const loaded = await loadOrCreateCredentials({ path });
    expect(loaded.credentials).toHaveLength(2);
    expect(credentialLookup(loaded.credentials)(extra.accessKeyId)).toEqual(extra);
    expect(credentialLookup(loaded.credentials)("AKIANOSUCHKEY0000000")).toBeUndefined();
  });

  it("refuses a file with a bad principal, naming the file and the field but not the secret", async () => {
    const path = await tempPath();
    await loadOrCreateCredentials({ path });
    const secret = "y".repeat(40);
    await writeFile(
      path,
      JSON.stringify({
        credentials: [{ accessKeyId: "AKIA0000000000000000", secretAccessKey: secret, principalArn: "me" }],
      }),
    );
    const error = await loadOrCreateCredentials({ path }).catch((e: unknown) => e);
    expect(String(error)).toContain(path);
    expect(String(error)).toContain("credentials.0.principalArn");
    expect(String(error)).not.toContain(secret);
  });

  it("skips random bytes above the largest multiple of the alphabet size, so no character is favoured", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const batches = [Buffer.from([255, 0, 252]), Buffer.from([35, 251, 7])];
    const bytes = (size: number) => (batches.shift() ?? Buffer.alloc(size)).subarray(0, size);
    // 255 and 252 are >= 252 (= 7 * 36) and rejected; 251 % 36 = 35.
    expect(randomString(alphabet, 3, bytes)).toBe("A99");
  });
});

describe("credentials file entries, as AWS issues keys", () => {
  async function load(entry: object): Promise<unknown> {
    const path = await tempPath();
    await loadOrCreateCredentials({ path });
    const file = JSON.parse(await readFile(path, "utf8"));
    await writeFile(path, JSON.stringify({ credentials: [...file.credentials, entry] }));
    return loadOrCreateCredentials({ path });
  }
  const base = { secretAccessKey: "x".repeat(40), principalArn: "arn:aws:iam::111122223333:role/svc" };

  it("refuses a session token on a long-term (AKIA…) key", async () => {
    await expect(load({ ...base, accessKeyId: "AKIAWITHTOKEN0000000", sessionToken: "t" })).rejects.toThrow(
      "sessionToken: an AKIA… access key is long-term and has no session token",
    );
  });

  it("refuses a temporary (ASIA…) key without its session token", async () => {
    await expect(load({ ...base, accessKeyId: "ASIANOTOKEN000000000" })).rejects.toThrow(
      "sessionToken: an ASIA… access key is temporary and needs its sessionToken",
    );
  });
});
