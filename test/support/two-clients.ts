// Test support: the Maskinporten emulator with two clients (payroll, vat), each registered with its own key, and the CLIENTS that names them.
import { type MaskinportenEmulator, startMaskinportenEmulator } from "../../dev/maskinporten-emulator.ts";
import { FileSigner } from "../../lib/signer/file.ts";
import { ACCOUNT, CLIENT_SCOPES } from "./broker-fixture.ts";
import { keyDirectory, keyFileText, newKey } from "./signer.ts";

/** name -> Maskinporten client id and kid of its key. */
export const TWO_CLIENTS = {
  payroll: { clientId: "mp-payroll-client", kid: "payroll-key-1" },
  vat: { clientId: "mp-vat-client", kid: "vat-key-1" },
} as const;
export type TwoClientName = keyof typeof TWO_CLIENTS;

/** payroll-svc may use only the payroll client; ops may use both. */
export const TWO_CLIENT_POLICY = {
  rules: [
    {
      principal: `arn:aws:iam::${ACCOUNT}:role/payroll-svc`,
      scopes: ["skatteetaten:*"],
      clients: ["payroll"],
    },
    { principal: `arn:aws:iam::${ACCOUNT}:role/ops`, scopes: ["skatteetaten:*"], clients: ["*"] },
  ],
};

export interface TwoClientFixture {
  emulator: MaskinportenEmulator;
  /** MASKINPORTEN_* for the emulator, CLIENTS with both file keys, POLICY = TWO_CLIENT_POLICY. */
  env: Record<string, string>;
  /** Each client's public JWK as registered at the emulator. */
  jwks: Record<TwoClientName, { kid: string; n?: string }>;
  close(): Promise<void>;
}

export async function startTwoClientFixture(): Promise<TwoClientFixture> {
  const dir = await keyDirectory();
  const emulator = await startMaskinportenEmulator();
  const clients = [];
  const jwks = {} as TwoClientFixture["jwks"];
  for (const [name, { clientId, kid }] of Object.entries(TWO_CLIENTS) as [
    TwoClientName,
    (typeof TWO_CLIENTS)[TwoClientName],
  ][]) {
    const path = await dir.write(`${name}.pem`, keyFileText(newKey(), "pem"));
    const { jwk } = await (await FileSigner.load(path, { alg: "RS256", kid })).current();
    emulator.registerClient({ clientId, jwks: [jwk], scopes: CLIENT_SCOPES });
    jwks[name] = jwk;
    clients.push({ name, client_id: clientId, signing_key: `file:${path}`, kid });
  }
  return {
    emulator,
    jwks,
    env: {
      MASKINPORTEN_ENV: "test",
      MASKINPORTEN_ISSUER: emulator.issuer,
      MASKINPORTEN_TOKEN_URL: emulator.tokenUrl,
      CLIENTS: JSON.stringify({ clients }),
      POLICY: JSON.stringify(TWO_CLIENT_POLICY),
    },
    async close() {
      await emulator.close();
      await dir.remove();
    },
  };
}
