import { describe, expect, it } from "vitest";
import { parseOAuthError, parseTokenAnswer } from "../../lib/maskinporten/response.ts";

const TOKEN = { access_token: "t", token_type: "Bearer", expires_in: 120, scope: "a:b" };

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

describe("an upstream OAuth error code", () => {
  const unknown = {
    error: "unknown",
    errorDescription: "Maskinporten answered HTTP 400 without an OAuth error body",
  };

  it("is passed on only when all of it is RFC 6749 characters, at most 100 of them", () => {
    const body = (error: string) => JSON.stringify({ error, error_description: "MP-130 expired" });
    expect(parseOAuthError(body("invalid_grant"), 400)).toEqual({
      error: "invalid_grant",
      errorDescription: "MP-130 expired",
    });
    expect(parseOAuthError(body("x".repeat(100)), 400).error).toBe("x".repeat(100));
    for (const error of ["é invalid_grant", "invalid_grant é", 'invalid"grant', "x".repeat(101), ""]) {
      expect(parseOAuthError(body(error), 400), error).toEqual(unknown);
    }
  });

  it("without a description is passed on with an empty one", () => {
    expect(parseOAuthError(JSON.stringify({ error: "invalid_scope" }), 400)).toEqual({
      error: "invalid_scope",
      errorDescription: "",
    });
  });
});
