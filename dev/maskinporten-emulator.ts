// A strict in-process Maskinporten (node:http): verifies grants like the real service, issues JWT access tokens, serves the key self-service API, injects faults.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { JWK } from "jose";
import { createAccessTokenIssuer } from "./emulator/access-token.ts";
import {
  ALTINN_EXCHANGE_PATH,
  type AltinnExchangeEmulator,
  createAltinnExchange,
} from "./emulator/altinn.ts";
import { AUTHORIZATION_DETAILS_TYPES } from "./emulator/authorization-details.ts";
import { defaultFaultBody, type EmulatorFault, type FaultType, playFault } from "./emulator/faults.ts";
import {
  type AcceptedGrant,
  checkGrant,
  GRANT_ALGS,
  JtiRegister,
  JWT_BEARER,
  OAuthError,
} from "./emulator/grant-check.ts";
import { type ClientRegistration, type RegisteredClient, registerClient } from "./emulator/registry.ts";
import { type AdminRequest, JWKS_PATH, selfService } from "./emulator/self-service.ts";

export type { AltinnAnswerMode, AltinnExchangeEmulator } from "./emulator/altinn.ts";
export type { EmulatorFault } from "./emulator/faults.ts";
export type { AcceptedGrant } from "./emulator/grant-check.ts";
export type {
  ClientRegistration,
  ConsentRegistration,
  Delegation,
  SystemUser,
} from "./emulator/registry.ts";
export type { AdminRequest } from "./emulator/self-service.ts";

export interface EmulatorOptions {
  /** Defaults to the emulator's own base URL (with trailing slash), like Maskinporten's metadata. */
  issuer?: string;
  /** Token lifetime in seconds; default 120 (Maskinporten's default). */
  expiresIn?: number;
  /** Clock skew tolerated on iat/exp, seconds; default 10. */
  clockSkewSeconds?: number;
  /** Wall clock, epoch ms. Also drives the Date header, so a test can skew it. */
  now?: () => number;
  host?: string;
  port?: number;
}

/** One POST /token as the emulator saw it: the grant's jti (unverified) and what was answered. */
export interface ReceivedRequest {
  jti: string | undefined;
  outcome: number | "dropped";
  fault?: FaultType;
}

export interface MaskinportenEmulator {
  url: string;
  issuer: string;
  tokenUrl: string;
  /** Altinn's token exchange, served by the emulator too: it accepts the emulator's access tokens. */
  altinnExchangeUrl: string;
  altinn: AltinnExchangeEmulator;
  /** The key access tokens are signed with. */
  publicJwks: { keys: JWK[] };
  registerClient(registration: ClientRegistration): void;
  /** POST /token requests received, faulted or not. */
  readonly grantsReceived: number;
  readonly requests: readonly ReceivedRequest[];
  /** Grants that passed every check, in order. */
  readonly acceptedGrants: readonly AcceptedGrant["claims"][];
  /** The grant an access token was issued for, by the token's jti: what a test checks the token fits. */
  grantBehind(tokenJti: string): AcceptedGrant["claims"] | undefined;
  /** Self-service API calls (`/api/v1/clients/{id}/jwks`), in order. */
  readonly adminRequests: readonly AdminRequest[];
  /** A client's registered keys: kid and registration expiry (unix seconds). */
  registeredKeys(clientId: string): { kid: string; exp: number }[];
  /** Queues faults; each one applies to one upcoming token request. */
  injectFault(...faults: EmulatorFault[]): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const MAX_FORM_BYTES = 64 * 1024;

export async function startMaskinportenEmulator(
  options: EmulatorOptions = {},
): Promise<MaskinportenEmulator> {
  const now = options.now ?? Date.now;
  const expiresIn = options.expiresIn ?? 120;
  const skewSeconds = options.clockSkewSeconds ?? 10;
  const tokens = await createAccessTokenIssuer();
  const clients = new Map<string, RegisteredClient>();
  const jtis = new JtiRegister();
  const requests: ReceivedRequest[] = [];
  const accepted: AcceptedGrant["claims"][] = [];
  const grantsBehind = new Map<string, AcceptedGrant["claims"]>();
  const adminRequests: AdminRequest[] = [];
  const faults: EmulatorFault[] = [];
  const closing = new AbortController();
  let issuer = "";
  let base = "";
  const altinn = await createAltinnExchange({
    maskinportenJwk: tokens.publicJwk,
    maskinportenIssuer: () => issuer,
    now,
    closing: closing.signal,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader("Date", new Date(now()).toUTCString());
    const path = new URL(req.url ?? "/", "http://emulator").pathname;
    if (req.method === "GET" && path === "/.well-known/oauth-authorization-server") {
      return sendJson(res, 200, metadata(issuer, base));
    }
    if (req.method === "GET" && path === "/jwk") return sendJson(res, 200, { keys: [tokens.publicJwk] });
    if (JWKS_PATH.test(path)) {
      const nowSeconds = Math.floor(now() / 1000);
      const request = {
        method: req.method ?? "GET",
        path,
        authorization: req.headers.authorization,
        body: await readForm(req),
      };
      const verifyToken = (token: string) => tokens.verify(token, issuer, nowSeconds);
      const answer = await selfService(request, { clients, nowSeconds, verifyToken, log: adminRequests });
      if (answer !== undefined) {
        for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
        return sendJson(res, answer.status, answer.body ?? {});
      }
    }
    if (path === ALTINN_EXCHANGE_PATH) return altinn.handle(req, res);
    if (path !== "/token") return sendJson(res, 404, { error: "not_found" });
    if (req.method !== "POST") {
      res.setHeader("Allow", "POST");
      return sendJson(res, 405, { error: "invalid_request", error_description: "MP-011 use POST" });
    }
    const body = await readForm(req);
    const form = new URLSearchParams(body ?? "");
    const record: ReceivedRequest = { jti: unverifiedJti(form.get("assertion")), outcome: 0 };
    requests.push(record);
    const answer = (status: number, payload: string, contentType = "application/json"): void => {
      record.outcome = status;
      res.writeHead(status, { "Content-Type": contentType, "Cache-Control": "no-store" });
      res.end(payload);
    };
    const fault = faults.shift();
    const stage = { req, res, answer, record, closing: closing.signal, statusBody: defaultFaultBody };
    if (await playFault(fault, stage)) return;
    if (body === undefined || !isForm(req)) {
      const error = new OAuthError("invalid_request", "MP-011", "Invalid request: expected a form body");
      return answer(400, oauthErrorBody(error));
    }
    const nowSeconds = Math.floor(now() / 1000);
    let grant: AcceptedGrant;
    try {
      grant = await checkGrant(form, { issuer, clients, nowSeconds, skewSeconds, jtis });
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      return answer(error.status, oauthErrorBody(error));
    }
    accepted.push(grant.claims);
    const tokenJti = randomUUID();
    grantsBehind.set(tokenJti, grant.claims);
    const accessToken = await tokens.issue(grant, { issuer, nowSeconds, expiresIn, jti: tokenJti });
    const response = {
      access_token: accessToken,
      token_type: "Bearer",
      ...(fault?.type === "missing-expires-in" ? {} : { expires_in: expiresIn }),
      scope: grant.scopes.join(" "),
    };
    return answer(200, JSON.stringify(response));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (closing.signal.aborted) return;
      if (!res.headersSent)
        sendJson(res, 500, { error: "server_error", error_description: "emulator error" });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  base = `http://${address.includes(":") ? `[${address}]` : address}:${port}/`;
  issuer = options.issuer ?? base;

  return {
    url: base,
    issuer,
    tokenUrl: `${base}token`,
    altinnExchangeUrl: `${base}${ALTINN_EXCHANGE_PATH.slice(1)}`,
    altinn,
    publicJwks: { keys: [tokens.publicJwk] },
    registerClient(registration) {
      clients.set(registration.clientId, registerClient(registration, Math.floor(now() / 1000)));
    },
    adminRequests,
    registeredKeys(clientId) {
      return [...(clients.get(clientId)?.keys.values() ?? [])].map(({ jwk, exp }) => ({ kid: jwk.kid, exp }));
    },
    get grantsReceived() {
      return requests.length;
    },
    requests,
    acceptedGrants: accepted,
    grantBehind: (tokenJti) => grantsBehind.get(tokenJti),
    injectFault(...more) {
      faults.push(...more);
    },
    clearFaults() {
      faults.length = 0;
    },
    close() {
      closing.abort();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function metadata(issuer: string, base: string): Record<string, unknown> {
  return {
    issuer,
    token_endpoint: `${base}token`,
    jwks_uri: `${base}jwk`,
    token_endpoint_auth_methods_supported: ["private_key_jwt"],
    grant_types_supported: [JWT_BEARER],
    token_endpoint_auth_signing_alg_values_supported: GRANT_ALGS,
    authorization_details_types_supported: AUTHORIZATION_DETAILS_TYPES,
  };
}

function oauthErrorBody(error: OAuthError): string {
  return JSON.stringify({ error: error.error, error_description: error.description });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  res.end(JSON.stringify(body));
}

function isForm(req: IncomingMessage): boolean {
  return (req.headers["content-type"] ?? "").split(";")[0]?.trim() === "application/x-www-form-urlencoded";
}

/** The body as text, or undefined when it exceeds the limit. */
async function readForm(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_FORM_BYTES) chunks.push(chunk);
  }
  return size > MAX_FORM_BYTES ? undefined : Buffer.concat(chunks).toString("utf8");
}

/** The jti of a grant without verifying anything: for the request log only. */
function unverifiedJti(assertion: string | null): string | undefined {
  const payload = assertion?.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const jti = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { jti?: unknown }).jti;
    return typeof jti === "string" ? jti : undefined;
  } catch {
    return undefined;
  }
}
