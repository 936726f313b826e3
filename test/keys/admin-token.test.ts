import { describe, expect, it } from "vitest";
import { type AdminTokenRecord, adminTokens } from "../../lib/keys/admin-token.ts";
import type { TokenTrace } from "../../lib/maskinporten/types.ts";
import { keyUnavailable } from "../../lib/signer/aws-errors.ts";
import { Deadline } from "../../lib/upstream/deadline.ts";
import { virtualClock } from "../support/virtual-clock.ts";

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

  it("mints the token under the deadline of the call that asked for it", async () => {
    const traces: (TokenTrace | undefined)[] = [];
    const tokens = adminTokens(
      {
        requestToken: async (_request, trace) => {
          traces.push(trace);
          return {
            token: { access_token: "t", token_type: "Bearer", expires_in: 60, scope: "idporten:dcr.read" },
            receivedAt: 0,
          };
        },
      },
      { client: "admin" },
    );
    const clock = virtualClock();
    const deadline = new Deadline(30_000, clock.monotonic, clock.alarm);
    await tokens("idporten:dcr.read", deadline);
    expect(traces[0]?.deadline).toBe(deadline);
  });
});
