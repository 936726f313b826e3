// The broker's Maskinporten clients by name: each one's signer and token source, all loaded in parallel at cold start.
import { ConfigError } from "../config/config-error.ts";
import type { ClientConfig, Config } from "../config/index.ts";
import { MaskinportenClient } from "../maskinporten/client.ts";
import type { TokenSource } from "../maskinporten/types.ts";
import { InvalidRequest, quoted } from "../problem/index.ts";
import { type ClientName, type TokenRequest, withOnlyClient } from "../request/index.ts";
import { createClientSigner, type Signer, type SignerDeps } from "../signer/index.ts";
import { type Jwks, jwksOf } from "../signer/jwks.ts";
import type { UpstreamDeps } from "../upstream/retry.ts";

/** One configured client, ready to sign for. */
export interface BrokerClient {
  readonly name: string;
  readonly signer: Signer;
  readonly source: TokenSource;
}

/** A request whose client is settled: the one it named, or the only one configured. */
export type ClientRequest = TokenRequest & { readonly client: ClientName };

/** What every client is built with: the signers' SDK clients and logger, the Maskinporten clients' runtime. */
export interface ClientsDeps {
  readonly signerDeps: SignerDeps;
  readonly upstream: UpstreamDeps;
}

/** A client's parts a test hands in ready-made, for every client, instead of the ones Config names. */
export interface ClientParts {
  readonly signer: Signer;
  readonly tokenSource: TokenSource;
}

/** Loads one client's key and builds its Maskinporten client. */
async function loadClient(
  config: Config,
  client: ClientConfig,
  deps: ClientsDeps,
  prebuilt: Partial<ClientParts>,
): Promise<BrokerClient> {
  const signer = prebuilt.signer ?? (await createClientSigner(client, deps.signerDeps));
  const source =
    prebuilt.tokenSource ??
    new MaskinportenClient(
      {
        issuer: config.maskinporten.issuer,
        tokenUrl: config.maskinporten.tokenUrl,
        clientId: client.clientId,
        timeoutMs: config.upstreamTimeoutMs,
      },
      signer,
      deps.upstream,
    );
  return { name: client.name, signer, source };
}

/** What a caller is told of a client name that is not configured, whatever it was. */
export const UNKNOWN_CLIENT = "client: no configured Maskinporten client has this name";
export const CLIENT_REQUIRED =
  "client: required, this broker has several Maskinporten clients (ask its operator for the name)";

export class BrokerClients {
  /** Requests without `client` resolved to the only client, kept per (frozen, reused) parsed request. */
  private readonly resolved = new WeakMap<TokenRequest, ClientRequest>();

  private constructor(private readonly byName: ReadonlyMap<string, BrokerClient>) {}

  /**
   * Loads every client's key at once. Configuration problems of all clients are reported together; otherwise
   * the first failure (e.g. KMS unreachable) is thrown as it is, so the next request tries again.
   */
  static async load(
    config: Config,
    deps: ClientsDeps,
    prebuilt: Partial<ClientParts> = {},
  ): Promise<BrokerClients> {
    const settled = await Promise.allSettled(
      config.clients.map((client) => loadClient(config, client, deps, prebuilt)),
    );
    const failures = settled.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
    const configErrors = failures.filter((error): error is ConfigError => error instanceof ConfigError);
    if (configErrors.length > 1) throw new ConfigError(configErrors.map((e) => e.message).join("\n"));
    const failure = configErrors[0] ?? failures[0];
    if (failure !== undefined) throw failure;
    const clients = settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    return new BrokerClients(new Map(clients.map((client) => [client.name, client])));
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  /**
   * Settles the request's client; a missing one (with several configured) or an unknown one is invalid_request.
   * The caller is told neither its own value nor the configured names (the broker's configuration); the audit
   * record gets both, the value masked.
   */
  resolve(request: TokenRequest): ClientRequest {
    if (request.client !== undefined) {
      if (!this.byName.has(request.client)) {
        throw new InvalidRequest(UNKNOWN_CLIENT, {
          auditReason: `${UNKNOWN_CLIENT}: ${quoted(request.client, 64)} (configured: ${this.names.join(", ")})`,
        });
      }
      return request as ClientRequest;
    }
    const known = this.resolved.get(request);
    if (known !== undefined) return known;
    const [only, ...more] = this.byName.keys();
    if (only === undefined || more.length > 0) {
      throw new InvalidRequest(CLIENT_REQUIRED, {
        auditReason: `${CLIENT_REQUIRED} (configured: ${this.names.join(", ")})`,
      });
    }
    const settled = withOnlyClient(request, only);
    this.resolved.set(request, settled);
    return settled;
  }

  /** The client a resolved request names. */
  of(request: ClientRequest): BrokerClient {
    const client = this.byName.get(request.client);
    if (client === undefined) throw new InvalidRequest(UNKNOWN_CLIENT);
    return client;
  }

  /** The public keys of every client, in configuration order. */
  async jwks(): Promise<Jwks> {
    return jwksOf(
      ...(await Promise.all([...this.byName.values()].map(async (c) => (await c.signer.current()).jwk))),
    );
  }
}
