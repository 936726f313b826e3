// AWS's own SigV4 test vectors (test/dev/fixtures/aws-sigv4) through the local gateway's verifier: each request,
// signed in the Authorization header and as a presigned URL, is accepted with its known signature.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SignedRequest } from "../../dev/gateway.ts";
import { createSigV4Verifier, type SigV4Result } from "../../dev/sigv4.ts";

const FIXTURES = join(import.meta.dirname, "fixtures/aws-sigv4");

interface Context {
  credentials: { access_key_id: string; secret_access_key: string; token?: string };
  normalize: boolean;
  region: string;
  service: string;
  timestamp: string;
  omit_session_token?: boolean;
}

/** Vectors for signers that must not normalise the path (S3's rules); API Gateway normalises, as the verifier does. */
const UNNORMALIZED = (context: Context) => !context.normalize;

/** A raw HTTP/1.1 request as the suite writes it: request line, `Name:value` lines (folded lines continue), body. */
function parseRequest(text: string): SignedRequest {
  const [head = "", ...rest] = text.split("\n\n");
  const [requestLine = "", ...headerLines] = head.split("\n");
  const match = /^(\S+) (.*) HTTP\/1\.1$/.exec(requestLine);
  if (match === null) throw new Error(`not a request line: ${requestLine}`);
  const [, method = "", target = ""] = match;
  const q = target.indexOf("?");
  const headers: Record<string, string[]> = Object.create(null);
  let last: string[] | undefined;
  for (const line of headerLines) {
    if (/^\s/.test(line) && last !== undefined) {
      last[last.length - 1] += `\n${line}`;
      continue;
    }
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    headers[name] = [...(headers[name] ?? []), line.slice(colon + 1)];
    last = headers[name];
  }
  return {
    method,
    path: q < 0 ? target : target.slice(0, q),
    rawQuery: q < 0 ? "" : target.slice(q + 1),
    headers,
    body: Buffer.from(rest.join("\n\n")),
  };
}

const vectors = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => {
    const read = (file: string) => readFileSync(join(FIXTURES, entry.name, file), "utf8");
    const context: Context = JSON.parse(read("context.json"));
    return { name: entry.name, context, read };
  });

function verifierFor(context: Context): (request: SignedRequest) => SigV4Result {
  const { access_key_id, secret_access_key, token } = context.credentials;
  return createSigV4Verifier({
    region: context.region,
    service: context.service,
    now: () => Date.parse(context.timestamp),
    lookup: (id) =>
      id === access_key_id
        ? {
            secretAccessKey: secret_access_key,
            principalArn: "arn:aws:iam::123456789012:user/example",
            ...(token === undefined ? {} : { sessionToken: token }),
          }
        : undefined,
  });
}

const applicable = vectors.filter((v) => !UNNORMALIZED(v.context) && v.context.omit_session_token !== true);

describe("AWS SigV4 test suite vectors", () => {
  it("covers the suite: every vector is run or named below with the reason it is not accepted", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(38);
    expect(applicable.length).toBeGreaterThanOrEqual(29);
  });

  describe.each(applicable)("$name", ({ context, read }) => {
    const verify = verifierFor(context);

    it("accepts the request signed in the Authorization header, with its known signature", () => {
      const request = parseRequest(read("header-signed-request.txt"));
      expect(String(request.headers.authorization)).toContain(
        `Signature=${read("header-signature.txt").trim()}`,
      );
      expect(verify(request)).toMatchObject({ ok: true });
    });

    it("accepts the presigned request (query string), with its known signature", () => {
      const request = parseRequest(read("query-signed-request.txt"));
      expect(request.rawQuery).toContain(`X-Amz-Signature=${read("query-signature.txt").trim()}`);
      expect(verify(request)).toMatchObject({ ok: true });
    });

    it("refuses the same request once its signature is one bit off", () => {
      const request = parseRequest(read("header-signed-request.txt"));
      const signature = read("header-signature.txt").trim();
      const flipped = `${signature.slice(0, -1)}${signature.endsWith("0") ? "1" : "0"}`;
      const authorization = String(request.headers.authorization).replace(signature, flipped);
      expect(verify({ ...request, headers: { ...request.headers, authorization } })).toMatchObject({
        ok: false,
      });
    });
  });

  it.each(vectors.filter((v) => UNNORMALIZED(v.context)))(
    "$name: signed without path normalisation (S3's rule): accepted only where normalising changes nothing",
    ({ name, context, read }) => {
      const request = parseRequest(read("header-signed-request.txt"));
      // "/example space/" has no dot segments or repeated slashes; every other one does.
      const unchangedByNormalising = name === "get-space-unnormalized";
      expect(verifierFor(context)(request).ok).toBe(unchangedByNormalising);
    },
  );

  it.each(vectors.filter((v) => v.context.omit_session_token === true))(
    "$name: refuses a security token added after signing (it must be a signed header)",
    ({ context, read }) => {
      const request = parseRequest(read("header-signed-request.txt"));
      expect(verifierFor(context)(request)).toEqual({
        ok: false,
        status: 403,
        message: "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.",
      });
    },
  );
});
