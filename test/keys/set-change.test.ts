import { describe, expect, it } from "vitest";
import { type RegisteredJwk, SelfServiceApi } from "../../lib/keys/admin-api.ts";
import { KeySetChanged } from "../../lib/keys/errors.ts";
import { CHANGE_TRIES, changeKeySet } from "../../lib/keys/set-change.ts";
import { ADMIN_SCOPES } from "../../lib/policy/index.ts";
import type { HttpTransport } from "../../lib/upstream/transport.ts";

const key = (kid: string): RegisteredJwk => ({ kty: "RSA", kid, n: `n-${kid}`, e: "AQAB" });

/** Another writer: the set it leaves once a call has been answered, or undefined to leave the set alone. */
interface OtherWriter {
  afterRead?: (reads: number) => RegisteredJwk[] | undefined;
  afterPost?: () => RegisteredJwk[] | undefined;
}

/** The self-service API over a set in memory, which `other` may change between the calls. */
function memoryApi(initial: RegisteredJwk[], other: OtherWriter = {}) {
  let set = initial;
  let reads = 0;
  const calls: string[] = [];
  const transport: HttpTransport = async (_url, request) => {
    calls.push(request.method);
    if (request.method === "POST") set = (JSON.parse(request.body ?? "{}") as { keys: RegisteredJwk[] }).keys;
    const answer = new Response(JSON.stringify({ keys: set }), { status: 200 });
    if (request.method === "GET") set = other.afterRead?.(++reads) ?? set;
    if (request.method === "POST") set = other.afterPost?.() ?? set;
    return answer;
  };
  const tokens: string[] = [];
  const api = new SelfServiceApi(
    { baseUrl: "https://api.test.samarbeid.digdir.no" },
    async (scope) => {
      tokens.push(scope);
      return "admin-token";
    },
    { fetch: transport },
  );
  return { api, calls, tokens, current: () => set };
}

const clock = { now: () => 0, sleep: async () => undefined };
const add = (kid: string) => async (set: readonly RegisteredJwk[]) => [...set, key(kid)];

describe("changeKeySet", () => {
  it("posts after a second read that shows the set it planned on, then reads until the change shows", async () => {
    const memory = memoryApi([key("a")]);
    const result = await changeKeySet(memory.api, "c", add("b"), clock);
    expect(memory.calls).toEqual(["GET", "GET", "POST", "GET"]);
    expect(result).toEqual({ before: [key("a")], after: [key("a"), key("b")], posted: true });
    // The write token is minted before the second read, so the post follows that read without a token's delay.
    expect(memory.tokens).toEqual([
      ADMIN_SCOPES.read,
      ADMIN_SCOPES.write,
      ADMIN_SCOPES.read,
      ADMIN_SCOPES.write,
      ADMIN_SCOPES.read,
    ]);
  });

  it("plans again on the new set when it changed between the two reads", async () => {
    // Another writer adds "x" right after the first read.
    const memory = memoryApi([key("a")], {
      afterRead: (reads) => (reads === 1 ? [key("a"), key("x")] : undefined),
    });
    const result = await changeKeySet(memory.api, "c", add("b"), clock);
    expect(memory.calls).toEqual(["GET", "GET", "GET", "GET", "POST", "GET"]);
    expect(memory.current().map((k) => k.kid)).toEqual(["a", "x", "b"]);
    expect(result.before.map((k) => k.kid)).toEqual(["a", "x"]);
  });

  it(`posts nothing and says so when the set changed before each of ${CHANGE_TRIES} posts`, async () => {
    const memory = memoryApi([key("a")], { afterRead: (reads) => [key("a"), key(`x${reads}`)] });
    const error = await changeKeySet(memory.api, "c", add("b"), clock).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeySetChanged);
    expect((error as KeySetChanged).code).toBe("key_set_changed");
    expect((error as Error).message).toMatch(/changed 3 times .*nothing posted/);
    expect(memory.calls).toEqual(Array(2 * CHANGE_TRIES).fill("GET"));
  });

  it("refuses, after its post, a set where a key it kept is gone", async () => {
    // Right after the post, another writer posts the set it read before: without "b", and it retired "k".
    const memory = memoryApi([key("a"), key("k")], { afterPost: () => [key("a")] });
    const error = await changeKeySet(memory.api, "c", add("b"), clock).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeySetChanged);
    expect((error as Error).message).toMatch(
      /^key k was removed by another change just after this one posted/,
    );
    expect(memory.calls).toEqual(["GET", "GET", "POST", "GET"]);
  });
});
