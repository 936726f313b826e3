import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadClients, loadConfig } from "../../lib/config/index.ts";
import { configErrorOf as messageOf } from "../support/config-error.ts";

const SHARED = { MASKINPORTEN_ENV: "test", POLICY: '{"rules":[]}' };
const SINGLE = { MASKINPORTEN_CLIENT_ID: "client-1", SIGNING_KEY: "kms:alias/maskinporten" };
const TWO = {
  clients: [
    { name: "payroll", client_id: "mp-payroll", signing_key: "kms:alias/payroll", kid: "payroll-1" },
    { name: "vat_2", client_id: "mp-vat", signing_key: "file:/keys/vat.pem", alg: "RS512" },
  ],
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mp-broker-clients-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("several Maskinporten clients", () => {
  it("reads CLIENTS: each client's name, client id and key, kid and alg as the single-client variables mean them", () => {
    expect(loadConfig({ ...SHARED, CLIENTS: JSON.stringify(TWO) }).clients).toEqual([
      {
        name: "payroll",
        clientId: "mp-payroll",
        signing: { key: { source: "kms", keyId: "alias/payroll" }, kid: "payroll-1", alg: "RS256" },
      },
      {
        name: "vat_2",
        clientId: "mp-vat",
        signing: { key: { source: "file", path: "/keys/vat.pem" }, alg: "RS512" },
      },
    ]);
  });

  it("reads CLIENTS_FILE the same way", async () => {
    const path = join(dir, "clients.json");
    await writeFile(path, JSON.stringify(TWO));
    const config = loadConfig({ ...SHARED, CLIENTS_FILE: path });
    expect(config.clients.map((client) => client.name)).toEqual(["payroll", "vat_2"]);
  });

  it("reads the shipped clients.example.json", () => {
    expect(loadClients({ CLIENTS_FILE: "clients.example.json" }).map((client) => client.name)).toEqual([
      "payroll",
      "vat",
    ]);
  });

  it("the single-client variables define one client named default", () => {
    expect(loadConfig({ ...SHARED, ...SINGLE }).clients).toEqual([
      {
        name: "default",
        clientId: "client-1",
        signing: { key: { source: "kms", keyId: "alias/maskinporten" }, alg: "RS256" },
      },
    ]);
  });

  it("refuses both forms at once, naming both", () => {
    const message = messageOf({ ...SHARED, ...SINGLE, CLIENTS: JSON.stringify(TWO) });
    expect(message).toContain("CLIENTS / MASKINPORTEN_CLIENT_ID, SIGNING_KEY:");
    expect(message).toContain("not both");
    expect(messageOf({ ...SHARED, SIGNING_ALG: "RS384", CLIENTS_FILE: "/x.json" })).toContain(
      "CLIENTS_FILE / SIGNING_ALG:",
    );
    expect(messageOf({ ...SHARED, CLIENTS: JSON.stringify(TWO), CLIENTS_FILE: "/x.json" })).toContain(
      "CLIENTS / CLIENTS_FILE: set one of them, not both",
    );
  });

  it("refuses a duplicate name, naming the name and both places", () => {
    const payroll = TWO.clients[0];
    const message = messageOf({
      ...SHARED,
      CLIENTS: JSON.stringify({ clients: [payroll, TWO.clients[1], { ...payroll, client_id: "other" }] }),
    });
    expect(message).toContain(
      'CLIENTS: clients[2] (name payroll).name: the name "payroll" is already used by clients[0]',
    );
  });

  it.each([
    [
      "a name with other characters",
      { name: "pay roll" },
      "clients[0].name: expected a name of 1 to 64 letters",
    ],
    [
      "a missing client id",
      { client_id: undefined },
      "clients[0] (name payroll).client_id: expected the Maskinporten client id",
    ],
    [
      "a bad key reference",
      { signing_key: "vault:x" },
      "clients[0] (name payroll).signing_key: expected kms:",
    ],
    ["a bad kid", { kid: "has space" }, "clients[0] (name payroll).kid: expected letters, digits"],
    [
      "an algorithm Maskinporten refuses",
      { alg: "ES256" },
      "clients[0] (name payroll).alg: expected RS256, RS384 or RS512",
    ],
    ["an unknown field", { scopes: [] }, "clients[0] (name payroll): unknown field(s) scopes"],
  ])("refuses %s, naming the client and the field", (_name, change, expected) => {
    const client = { ...TWO.clients[0], ...change };
    expect(messageOf({ ...SHARED, CLIENTS: JSON.stringify({ clients: [client] }) })).toContain(
      `CLIENTS: ${expected}`,
    );
  });

  it("names every bad client at once", () => {
    const message = messageOf({
      ...SHARED,
      CLIENTS: JSON.stringify({
        clients: [
          { ...TWO.clients[0], alg: "HS256" },
          { ...TWO.clients[1], signing_key: "x" },
        ],
      }),
    });
    expect(message).toContain("clients[0] (name payroll).alg");
    expect(message).toContain("clients[1] (name vat_2).signing_key");
  });

  it.each([
    ["not JSON", "{clients", "CLIENTS: not valid JSON"],
    ["no clients", '{"clients": []}', "CLIENTS: clients: expected at least one client"],
    ["another shape", '[{"name": "a"}]', 'CLIENTS: expected {"clients": ['],
  ])("refuses a document that is %s", (_name, text, expected) => {
    expect(messageOf({ ...SHARED, CLIENTS: text })).toContain(expected);
  });

  it("names CLIENTS_FILE and its path when the file cannot be read", () => {
    const path = join(dir, "missing.json");
    expect(messageOf({ ...SHARED, CLIENTS_FILE: path })).toContain(
      `CLIENTS_FILE ${path}: cannot read the file (ENOENT)`,
    );
  });

  it("asks for the client variables, or CLIENTS, when neither form is set", () => {
    const message = messageOf(SHARED);
    expect(message).toContain(
      "MASKINPORTEN_CLIENT_ID: expected the Maskinporten client id (or CLIENTS / CLIENTS_FILE",
    );
    expect(message).toContain("SIGNING_KEY:");
  });
});
