// Builds each configured client's KeyLifecycle from Config: its signer, the admin client's token, the self-service API.
import type { ClientConfig, KeyConfig } from "../config/index.ts";
import { MaskinportenClient } from "../maskinporten/client.ts";
import { createSigner, type Signer, type SignerDeps } from "../signer/index.ts";
import type { HttpTransport } from "../upstream/transport.ts";
import { SelfServiceApi, type SelfServiceDeps } from "./admin-api.ts";
import { type AdminTokenRecord, adminTokens } from "./admin-token.ts";
import { KeyLifecycle, type KeyLifecycleDeps } from "./lifecycle.ts";

export interface KeySetupDeps extends KeyLifecycleDeps {
  fetch?: HttpTransport | undefined;
  signer?: SignerDeps | undefined;
  /** Receives the audit record of every admin token minted or refused (the grants signed for it). */
  onAdminToken?: ((record: AdminTokenRecord) => void) | undefined;
  /** Retry timing, clocks and alarm for the upstream calls: the admin tokens' Maskinporten client, the self-service API. */
  upstream?: Omit<SelfServiceDeps, "fetch" | "now"> | undefined;
}

/** One KeyLifecycle per configured client, in configuration order. */
export async function createKeyLifecycles(
  config: KeyConfig,
  deps: KeySetupDeps = {},
): Promise<KeyLifecycle[]> {
  // A separate admin client's own registration is watched like every other.
  const separate = config.keys.separateAdminClient;
  const clients = separate === undefined ? config.clients : [...config.clients, separate];
  const adminName = config.keys.adminClient;
  // loadKeyConfig found the admin client among them (or refused to load).
  const admin = adminName === undefined ? undefined : clients.find((c) => c.name === adminName);
  const signers = new Map<string, Promise<Signer>>();
  const signerOf = (client: ClientConfig): Promise<Signer> => {
    let signer = signers.get(client.name);
    if (signer === undefined) {
      signer = createSigner(client.signing, deps.signer);
      signers.set(client.name, signer);
    }
    return signer;
  };
  const now = deps.now ?? Date.now;
  const upstream: SelfServiceDeps = { ...deps.upstream, now, fetch: deps.fetch };
  const tokensOf = new Map<string, ReturnType<typeof adminTokens>>();
  const adminTokenSource = async (client: ClientConfig) => {
    const existing = tokensOf.get(client.name);
    if (existing !== undefined) return existing;
    const source = new MaskinportenClient(
      {
        issuer: config.maskinporten.issuer,
        tokenUrl: config.maskinporten.tokenUrl,
        clientId: client.clientId,
        timeoutMs: config.upstreamTimeoutMs,
      },
      await signerOf(client),
      upstream,
    );
    const tokens = adminTokens(source, { client: client.name, now, onRecord: deps.onAdminToken });
    tokensOf.set(client.name, tokens);
    return tokens;
  };
  const lifecycles: KeyLifecycle[] = [];
  for (const client of clients) {
    const api = new SelfServiceApi(
      { baseUrl: config.keys.adminUrl, timeoutMs: Math.max(config.upstreamTimeoutMs, 10_000) },
      await adminTokenSource(admin ?? client),
      upstream,
    );
    lifecycles.push(
      new KeyLifecycle(
        { name: client.name, clientId: client.clientId },
        api,
        await signerOf(client),
        { warnDays: config.keys.warnDays, selfAdministered: (admin ?? client) === client },
        deps,
      ),
    );
  }
  return lifecycles;
}
