import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildGrantClaims } from "../../lib/grant/index.ts";
import { InvalidRequest } from "../../lib/problem/index.ts";
import { isResourceUri, parseTokenRequest } from "../../lib/request/index.ts";
import { USERINFO_MESSAGE } from "../../lib/request/resource.ts";
import { PID_A } from "../support/pid.ts";

const parse = (resource: unknown) =>
  parseTokenRequest(
    {
      body: JSON.stringify({ scope: "a:b", resource }),
      isBase64Encoded: false,
      contentType: "application/json",
    },
    { environment: "prod" },
  );

describe("resource values", () => {
  it("a resource is an absolute https URI", () => {
    for (const ok of [
      "https://api.example.no",
      "https://api.example.no/v1/x?y=1&z=%7E",
      "https://API.Example.NO:443/a/../b/",
      "https://[::1]:8443/x",
    ]) {
      expect(isResourceUri(ok), ok).toBe(true);
    }
    for (const bad of [
      "http://api.example.no/",
      "api.example.no/x",
      "/relative",
      "https:api.example.no",
      "https:///x",
      "https://",
      "urn:example:x",
      "",
    ]) {
      expect(isResourceUri(bad), bad).toBe(false);
    }
  });

  it("a resource of URI characters that no URL parser takes is refused: a port out of range, a broken host", () => {
    for (const bad of [
      "https://a.example:99999/",
      "https://[::1/",
      "https://[x]/",
      "https://a%20b/",
      "https://:443/",
    ]) {
      expect(isResourceUri(bad), bad).toBe(false);
    }
  });

  it("a resource with userinfo before the host is refused with a message that does not repeat it", () => {
    for (const bad of [
      "https://u:p@x.no",
      "https://svc-user@api.example.no/v1",
      "https://@x.no/",
      "HTTPS://u@x.no",
    ]) {
      expect(isResourceUri(bad), bad).toBe(false);
      expect(() => parse([bad]), bad).toThrow(new InvalidRequest(USERINFO_MESSAGE));
    }
    expect(USERINFO_MESSAGE).toBe("resource: a URI must not carry userinfo (user:password@ before the host)");
    for (const ok of [
      "https://api.example.no/users/@me",
      "https://api.example.no/v1?next=https://svc@x.no",
    ]) {
      expect(isResourceUri(ok), ok).toBe(true);
    }
  });

  it("a percent sign is followed by two hex digits, and https:// starts the URI, not only its path", () => {
    for (const bad of [
      "https://a.example/x%7",
      "https://a.example/x%4g",
      "http://a.example/https://b.example",
    ]) {
      expect(isResourceUri(bad), bad).toBe(false);
    }
    expect(isResourceUri("https://a.example/x%7Ey")).toBe(true);
  });

  it("a resource may be 2048 characters long, not one more", () => {
    const of = (length: number) => `https://api.example.no/${"a".repeat(length - 23)}`;
    expect(of(2048)).toHaveLength(2048);
    expect(isResourceUri(of(2048))).toBe(true);
    expect(isResourceUri(of(2049))).toBe(false);
  });

  it("a resource with whitespace, control, bidi or other non-ASCII characters is refused", () => {
    for (const bad of [
      "https://api.example.no/a b",
      "https://api.example.no/a\tb",
      "https://api.example.no/a\n",
      "https://api.example.no/\u0000",
      "https://api.example.no/\u007f",
      "https://api.example.no/\u202egnp.exe",
      "https://api.example.no/\u200f",
      "https://xn--api.example.no/\u00e6",
      "https://api.example.no/a\\b",
      "https://api.example.no/%zz",
      "https://api.example.no/#fragment",
    ]) {
      expect(isResourceUri(bad), JSON.stringify(bad)).toBe(false);
    }
    fc.assert(
      fc.property(
        fc.string(),
        fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
        fc.string(),
        (a, c, b) => {
          fc.pre(c < "\x21" || c > "\x7e");
          expect(isResourceUri(`https://api.example.no/${a}${c}${b}`)).toBe(false);
        },
      ),
    );
  });

  it("a refused resource is a 400 invalid_request naming resource", () => {
    for (const bad of ["https://api.example.no/\u202e", ["https://a.example/", "https://b.example/ x"]]) {
      expect(() => parse(bad)).toThrow(InvalidRequest);
      expect(() => parse(bad)).toThrow(/^resource: expected an absolute https URI/);
    }
  });

  it("a pid in any entry of a resource array is refused, not only in the first or in all of them", () => {
    const clean = ["https://a.example/x", "https://b.example/y", "https://c.example/z"];
    for (let at = 0; at < clean.length; at++) {
      const list = clean.map((uri, i) => (i === at ? `${uri}/${PID_A}` : uri));
      expect(() => parse(list), JSON.stringify(list)).toThrow(
        /^resource: a URI must not hold 11 or more digits/,
      );
    }
    expect(parse(clean).request.resource).toEqual(clean);
  });

  it("a resource reaches the grant byte for byte as the caller wrote it", () => {
    const written = ["https://API.Example.NO:443/a/../b?x=%7e", "https://api.example.no"];
    const { request } = parse(written);
    expect(request.resource).toEqual([...written].sort());
    const claims = buildGrantClaims(request, { issuer: "https://mp/", clientId: "c", now: 0, jti: "j" });
    expect(claims.resource).toEqual([...written].sort());
    expect(new URL(written[0] ?? "").href).not.toBe(written[0]);
  });
});
