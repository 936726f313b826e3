// The /token answer's JSON writer: byte for byte what JSON.stringify gives, whichever token came before.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tokenBodyWriter } from "../../functions/token.ts";

const body = fc.record(
  {
    access_token: fc.string({ unit: "binary" }),
    token_type: fc.string({ unit: "binary" }),
    expires_in: fc.oneof(fc.integer(), fc.double()),
    scope: fc.string({ unit: "binary" }),
    exchange: fc.constant("altinn" as const),
  },
  { requiredKeys: ["access_token", "token_type", "expires_in", "scope"] },
);

describe("tokenBodyWriter", () => {
  it("writes JSON.stringify(body) exactly, for any sequence of bodies (same token again or a new one, exchanged or not)", () => {
    fc.assert(
      fc.property(
        fc.array(body, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(7)),
        fc.integer({ min: 1, max: 4 }),
        (bodies, repeats, capacity) => {
          const write = tokenBodyWriter(capacity);
          const sequence = [...bodies, ...repeats.map((i) => bodies[i % bodies.length] ?? bodies[0])];
          for (const b of sequence) {
            if (b !== undefined) expect(write(b)).toBe(JSON.stringify(b));
          }
        },
      ),
    );
  });

  it("serves a changed expires_in with the same token", () => {
    const write = tokenBodyWriter();
    const first = { access_token: 'a"b\u2028', token_type: "Bearer", expires_in: 120, scope: "x:y" };
    expect(write(first)).toBe(JSON.stringify(first));
    expect(JSON.parse(write({ ...first, expires_in: 119 }))).toEqual({ ...first, expires_in: 119 });
    expect(write({ ...first, access_token: "" })).toBe(JSON.stringify({ ...first, access_token: "" }));
  });
});
