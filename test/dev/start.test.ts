// `npm start` as a newcomer runs it: a child process, its banner, its curl command, the client, and SigV4 refusals.
import type { ChildProcess } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EXAMPLE_CONSENT_ORG,
  EXAMPLE_CONSENT_PERSON,
  EXAMPLE_EXTERNAL_REF,
  EXAMPLE_ONBEHALFOF,
  EXAMPLE_ORG_CONSENT_ID,
  EXAMPLE_PERSON_CONSENT_ID,
  EXAMPLE_SYSTEMUSER_ORG,
} from "../../dev/altinn-examples.ts";
import { createTokenClient } from "../../lib/client/index.ts";
import { type NpmStart, printedJson, runPrinted, startNpmStart } from "../support/npm-start.ts";

let started: NpmStart;
let child: ChildProcess;
let banner: NpmStart["banner"];
let credentials: { accessKeyId: string; secretAccessKey: string };

const auditRecords = () =>
  started
    .output()
    .split("\n")
    .filter((line) => line.includes('"event":"token_'));

beforeAll(async () => {
  started = await startNpmStart();
  ({ child, banner } = started);
  const file = JSON.parse(await readFile(join(started.dir, "credentials.json"), "utf8"));
  credentials = file.credentials[0];
}, 90_000);

afterAll(() => started.close());

describe("npm start", () => {
  it("prints the new local keys once and keeps them in a 0600 file", async () => {
    expect(started.output()).toContain(credentials.accessKeyId);
    expect(started.output()).toContain(credentials.secretAccessKey);
    expect((await stat(join(started.dir, "credentials.json"))).mode & 0o777).toBe(0o600);
  });

  it("answers the printed curl command (the real curl --aws-sigv4) with a token", async () => {
    const { stdout } = await runPrinted(`${banner.curl} -i`);
    expect(stdout).toMatch(/^HTTP\/1\.1 200/);
    expect(stdout).toMatch(/x-token-cache: (miss|hit)/i);
    const body = JSON.parse(stdout.slice(stdout.indexOf("\r\n\r\n") + 4));
    expect(body).toMatchObject({ token_type: "Bearer", scope: "skatteetaten:mva" });
    expect(body.expires_in).toBeGreaterThanOrEqual(30);
    const claims = JSON.parse(Buffer.from(body.access_token.split(".")[1], "base64url").toString());
    expect(claims).toMatchObject({ client_id: "local-broker", scope: "skatteetaten:mva" });
  });

  it("answers lib/client with the local credentials", async () => {
    const client = createTokenClient({ endpoint: banner.url, region: "eu-north-1", credentials });
    const token = await client.getToken({ scope: "skatteetaten:inntektsmottak", consumer_org: "310000000" });
    expect(token.scope).toBe("skatteetaten:inntektsmottak");
    const claims = JSON.parse(Buffer.from(token.access_token.split(".")[1] ?? "", "base64url").toString());
    expect(claims.consumer).toEqual({ authority: "iso6523-actorid-upis", ID: "0192:310000000" });
  });

  it("answers the printed npm run token line, which names the port and LOCAL_DIR it started with", async () => {
    expect(banner.token).toBe(
      `PORT=${new URL(banner.url).port} LOCAL_DIR='${started.dir}' npm run token -- --scope skatteetaten:mva`,
    );
    const { stdout } = await runPrinted(banner.token);
    expect(printedJson(stdout)).toMatchObject({ token_type: "Bearer", scope: "skatteetaten:mva" });
  });

  it("answers the printed key status command from the emulator's self-service API", async () => {
    const { stdout } = await runPrinted(banner.keys ?? "missing");
    const report = JSON.parse(stdout) as {
      client_id: string;
      keys: { signing: boolean; days_left: number }[];
    };
    expect(report.client_id).toBe("local-broker");
    expect(report.keys).toEqual([expect.objectContaining({ signing: true, days_left: 364 })]);
  });

  it("exchanges for an Altinn token at the emulator's Altinn, which npm start wires", async () => {
    const client = createTokenClient({ endpoint: banner.url, region: "eu-north-1", credentials });
    const token = await client.getToken({ scope: "skatteetaten:mva", exchange: "altinn" });
    expect(token).toMatchObject({ scope: "skatteetaten:mva", exchange: "altinn" });
    const claims = JSON.parse(Buffer.from(token.access_token.split(".")[1] ?? "", "base64url").toString());
    expect(claims["urn:altinn:authenticatemethod"]).toBe("maskinporten");
    expect(token.expires_in).toBeGreaterThan(25 * 60);
  });

  it("the printed npm run token line with --exchange altinn prints an exchanged token", async () => {
    const { stdout } = await runPrinted(`${banner.token} --exchange altinn`);
    expect(printedJson(stdout)).toMatchObject({ scope: "skatteetaten:mva", exchange: "altinn" });
  });

  it.each([
    [
      "a person's consent",
      ["--consent-id", EXAMPLE_PERSON_CONSENT_ID, "--consent-from", EXAMPLE_CONSENT_PERSON],
      {
        type: "urn:altinn:consent",
        id: EXAMPLE_PERSON_CONSENT_ID,
        from: `urn:altinn:person:identifier-no:${EXAMPLE_CONSENT_PERSON}`,
      },
    ],
    [
      "an organisation's consent",
      ["--consent-id", EXAMPLE_ORG_CONSENT_ID, "--consent-from", EXAMPLE_CONSENT_ORG],
      { type: "urn:altinn:consent", from: `urn:altinn:organization:identifier-no:${EXAMPLE_CONSENT_ORG}` },
    ],
    [
      "a system user by externalRef",
      ["--systemuser-org", EXAMPLE_SYSTEMUSER_ORG, "--external-ref", EXAMPLE_EXTERNAL_REF],
      { type: "urn:altinn:systemuser" },
    ],
  ])("npm run token prints a token for the example of %s", async (_name, flags, detail) => {
    const line = banner.token.replace("skatteetaten:mva", "skatteetaten:inntektsmottak");
    const { stdout } = await runPrinted(`${line} ${flags.join(" ")}`);
    const token = printedJson(stdout) as { access_token: string; scope: string };
    expect(token.scope).toBe("skatteetaten:inntektsmottak");
    const claims = JSON.parse(Buffer.from(token.access_token.split(".")[1] ?? "", "base64url").toString());
    expect(claims.authorization_details).toEqual([expect.objectContaining(detail)]);
  });

  it("npm run token -- --onbehalfof prints a token, and audits the person's consent by pseudonym only", async () => {
    const { stdout } = await runPrinted(`${banner.token} --onbehalfof ${EXAMPLE_ONBEHALFOF}`);
    expect(printedJson(stdout)).toMatchObject({ scope: "skatteetaten:mva", token_type: "Bearer" });
    expect(auditRecords().some((line) => line.includes(`"onbehalfof":"${EXAMPLE_ONBEHALFOF}"`))).toBe(true);
    expect(auditRecords().some((line) => line.includes('"consent_from_pseudonym"'))).toBe(true);
    expect(started.output()).not.toContain(EXAMPLE_CONSENT_PERSON);
  });

  describe("refuses at the gateway, before any handler runs", () => {
    const body = '{"scope":"skatteetaten:mva"}';

    async function signed(options: {
      secret?: string;
      accessKeyId?: string;
      path?: string;
      signingDate?: Date;
      body?: string;
    }): Promise<Record<string, string>> {
      const url = new URL(banner.url);
      const signer = new SignatureV4({
        service: "execute-api",
        region: "eu-north-1",
        sha256: Sha256,
        credentials: {
          accessKeyId: options.accessKeyId ?? credentials.accessKeyId,
          secretAccessKey: options.secret ?? credentials.secretAccessKey,
        },
      });
      const request = {
        method: "POST",
        protocol: "http:",
        hostname: url.hostname,
        port: Number(url.port),
        path: options.path ?? "/token",
        query: {},
        headers: { host: url.host, "content-type": "application/json" },
        body: options.body ?? body,
      };
      const result = await signer.sign(
        request,
        options.signingDate ? { signingDate: options.signingDate } : {},
      );
      // fetch sets Host from the URL itself.
      const { host: _, ...headers } = result.headers;
      return headers;
    }

    const tampered = '{"scope":"skatteetaten:inntektsmottak"}';
    const cases: { name: string; headers: () => Promise<Record<string, string>>; sent?: string }[] = [
      { name: "no signature", headers: async () => ({ "content-type": "application/json" }) },
      { name: "a wrong secret", headers: () => signed({ secret: "x".repeat(40) }) },
      { name: "a body tampered after signing", headers: () => signed({}), sent: tampered },
      { name: "a path tampered after signing", headers: () => signed({ path: "/tokens" }) },
      {
        name: "an X-Amz-Date older than 5 minutes",
        headers: () => signed({ signingDate: new Date(Date.now() - 6 * 60_000) }),
      },
      { name: "an unknown access key", headers: () => signed({ accessKeyId: "AKIAUNKNOWNKEY000000" }) },
    ];

    /**
     * A request that reaches the handler and is audited with `name` in its reason (an invalid scope-token):
     * once its record is in, every record written before it is too (one process, one stdout).
     */
    async function mark(name: string): Promise<void> {
      const marker = JSON.stringify({ scope: `x"${name}` });
      await fetch(`${banner.url}/token`, {
        method: "POST",
        body: marker,
        headers: await signed({ body: marker }),
      });
      await expect.poll(() => started.output().includes(name)).toBe(true);
    }

    it.each(cases)(
      "$name -> 403 in API Gateway's shape, no audit record",
      async ({ name, headers, sent }) => {
        const id = name.replaceAll(/\W+/g, "-");
        await mark(`before-${id}`);
        const before = auditRecords().length;
        const response = await fetch(`${banner.url}/token`, {
          method: "POST",
          body: sent ?? body,
          headers: await headers(),
        });
        expect(response.status).toBe(403);
        expect(Object.keys((await response.json()) as object)).toEqual(["message"]);
        await mark(`after-${id}`);
        // Only the second marker's record came in between: the refused request wrote none.
        expect(auditRecords().slice(before)).toEqual([expect.stringContaining(`after-${id}`)]);
      },
    );

    it("while a correctly signed request does reach the handler", async () => {
      const before = auditRecords().length;
      const response = await fetch(`${banner.url}/token`, {
        method: "POST",
        body,
        headers: await signed({}),
      });
      expect(response.status).toBe(200);
      await expect.poll(() => auditRecords().length).toBe(before + 1);
    });
  });

  it("stops cleanly on Ctrl-C (SIGINT)", async () => {
    const exited = new Promise<string>((resolve) =>
      child.once("exit", (code, signal) => resolve(`${code}/${signal}`)),
    );
    // Ctrl-C signals the terminal's whole process group: npm, its shell and the script.
    process.kill(-(child.pid ?? 0), "SIGINT");
    // npm re-raises the signal it got; the broker itself closed its servers and exited 0.
    expect(await exited).toMatch(/^(0\/null|null\/SIGINT)$/);
    await expect(fetch(`${banner.url}/health`)).rejects.toThrow();
    expect(started.output()).not.toMatch(/npm start failed|crashed|ERR!/);
  });
});
