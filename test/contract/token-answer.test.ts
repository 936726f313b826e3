import { describe, expect, it } from "vitest";
import { parseTokenAnswer, parseTokenResponse } from "../../lib/contract/index.ts";

const TOKEN = { access_token: "t", token_type: "Bearer", expires_in: 120, scope: "a:b" };

describe("Maskinporten's token body", () => {
  it("accepts only a complete token body, and drops extra fields", () => {
    const good = { access_token: "t", token_type: "Bearer", expires_in: 120, scope: "a b", extra: 1 };
    expect(parseTokenResponse(JSON.stringify(good))).toEqual({
      access_token: "t",
      token_type: "Bearer",
      expires_in: 120,
      scope: "a b",
    });
    for (const bad of [
      { ...good, access_token: "" },
      { ...good, expires_in: 0 },
      { ...good, expires_in: "120" },
      { access_token: "t", token_type: "Bearer", scope: "a" },
    ]) {
      expect(parseTokenResponse(JSON.stringify(bad))).toBeUndefined();
    }
    expect(parseTokenResponse("<html>")).toBeUndefined();
  });
});

describe("the broker's answer, as its caller client reads it", () => {
  it("a token without exchange is the token alone, with no exchange field at all", () => {
    const answer = parseTokenAnswer(JSON.stringify({ ...TOKEN, extra: "dropped" }));
    expect(answer).toStrictEqual(TOKEN);
    expect(answer !== undefined && "exchange" in answer).toBe(false);
  });

  it("an exchanged Altinn token keeps its exchange mark", () => {
    expect(parseTokenAnswer(JSON.stringify({ ...TOKEN, exchange: "altinn" }))).toStrictEqual({
      ...TOKEN,
      exchange: "altinn",
    });
  });

  it("an answer with another exchange, a missing field or no JSON is no token", () => {
    for (const body of [
      { ...TOKEN, exchange: "idporten" },
      { ...TOKEN, exchange: "" },
      { ...TOKEN, access_token: "" },
      { access_token: "t", token_type: "Bearer", scope: "a:b" },
    ]) {
      expect(parseTokenAnswer(JSON.stringify(body)), JSON.stringify(body)).toBeUndefined();
    }
    expect(parseTokenAnswer("<html>")).toBeUndefined();
  });
});
