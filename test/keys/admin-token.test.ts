import { describe, expect, it } from "vitest";
import { type AdminTokenRecord, adminTokens } from "../../lib/keys/admin-token.ts";
import { keyUnavailable } from "../../lib/signer/aws-errors.ts";

const KEY_ARN = "arn:aws:kms:eu-north-1:111122223333:key/5a1e9c2b-7d3f-4e6a-8b0c-1d2e3f4a5b6c";

describe("admin tokens", () => {
  it("a refused admin token is recorded with the operator's reason: the key's ARN, which a caller is not told", async () => {
    const records: AdminTokenRecord[] = [];
    const tokens = adminTokens(
      {
        requestToken: async () => {
          throw keyUnavailable("KMS reports %s is disabled", "the signing key", KEY_ARN);
        },
      },
      { client: "admin", onRecord: (record) => records.push(record) },
    );
    await expect(tokens("idporten:dcr.read")).rejects.toMatchObject({
      code: "signing_unavailable",
      detail: "KMS reports the signing key is disabled",
    });
    expect(records).toEqual([
      {
        event: "admin_token_failed",
        client: "admin",
        scope: "idporten:dcr.read",
        code: "signing_unavailable",
        reason: `KMS reports the signing key ${KEY_ARN} is disabled`,
      },
    ]);
  });
});
