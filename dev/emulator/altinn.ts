// The emulator's Altinn token exchange: verifies a Maskinporten token the emulator issued, answers an Altinn JWT, injects faults.
import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { importJWK, type JWK, type JWTPayload, jwtVerify, SignJWT } from "jose";
import { type EmulatorFault, playFault } from "./faults.ts";

/** Altinn's path for exchanging a Maskinporten token (prod: platform.altinn.no, TT02: platform.tt02.altinn.no). */
export const ALTINN_EXCHANGE_PATH = "/authentication/api/v1/exchange/maskinporten";
/** Altinn builds its token with its own lifetime: 30 minutes by default. */
export const ALTINN_TOKEN_SECONDS = 30 * 60;

/** How a successful exchange is answered: the JWT as the body, or (as some deployments do) a JSON string. */
export type AltinnAnswerMode = "jwt" | "json-string";

/** One exchange request as the emulator saw it. */
export interface ExchangeRequest {
  outcome: number | "dropped";
  fault?: EmulatorFault["type"];
}

export interface AltinnExchangeEmulator {
  /** Exchange requests received, faulted or not. */
  readonly requests: readonly ExchangeRequest[];
  /** Claims of the Altinn tokens issued, in order. */
  readonly issued: readonly JWTPayload[];
  answerAs: AltinnAnswerMode;
  /** Altinn token lifetime, seconds; default 30 minutes. */
  lifetimeSeconds: number;
  /** Queues faults; each applies to one upcoming exchange ("missing-expires-in": an Altinn token without exp). */
  injectFault(...faults: EmulatorFault[]): void;
  clearFaults(): void;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export interface AltinnExchangeParams {
  /** The key the emulator signs its Maskinporten access tokens with. */
  maskinportenJwk: JWK;
  /** The emulator's Maskinporten issuer, known once it listens. */
  maskinportenIssuer: () => string;
  /** Wall clock, epoch ms. */
  now: () => number;
  /** Aborts injected delays when the emulator closes. */
  closing: AbortSignal;
}

export async function createAltinnExchange(params: AltinnExchangeParams): Promise<AltinnExchangeEmulator> {
  const maskinportenKey = await importJWK(params.maskinportenJwk, "RS256");
  const altinnKey = new Uint8Array(randomBytes(32));
  const requests: ExchangeRequest[] = [];
  const issued: JWTPayload[] = [];
  const faults: EmulatorFault[] = [];

  /** Altinn's checks: signature, lifetime and issuer of a Maskinporten token, and a `consumer` present. */
  async function verified(req: IncomingMessage): Promise<JWTPayload | undefined> {
    const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
    if (match?.[1] === undefined) return undefined;
    try {
      const { payload } = await jwtVerify(match[1], maskinportenKey, {
        issuer: params.maskinportenIssuer(),
        currentDate: new Date(params.now()),
      });
      const consumer = payload.consumer as { ID?: unknown } | undefined;
      return typeof consumer?.ID === "string" ? payload : undefined;
    } catch {
      return undefined;
    }
  }

  function altinnToken(source: JWTPayload, withExp: boolean): Promise<string> {
    const nowSeconds = Math.floor(params.now() / 1000);
    const consumer = source.consumer as { ID: string };
    const claims: JWTPayload = {
      scope: source.scope,
      token_type: "Bearer",
      client_id: source.client_id,
      consumer: JSON.stringify(source.consumer),
      "urn:altinn:orgNumber": consumer.ID.replace(/^0192:/, ""),
      "urn:altinn:authenticatemethod": "maskinporten",
      "urn:altinn:authlevel": 3,
      iss: "https://platform.altinn.emulator/authentication/api/v1/openid/",
      iat: nowSeconds,
      nbf: nowSeconds,
      jti: randomUUID(),
      ...(withExp ? { exp: nowSeconds + emulator.lifetimeSeconds } : {}),
    };
    issued.push(claims);
    return new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(altinnKey);
  }

  const emulator: AltinnExchangeEmulator = {
    requests,
    issued,
    answerAs: "jwt",
    lifetimeSeconds: ALTINN_TOKEN_SECONDS,
    injectFault(...more) {
      faults.push(...more);
    },
    clearFaults() {
      faults.length = 0;
    },
    async handle(req, res) {
      const record: ExchangeRequest = { outcome: 0 };
      requests.push(record);
      const answer = (status: number, body: string, contentType = "text/plain"): void => {
        record.outcome = status;
        res.writeHead(status, { "Content-Type": contentType, "Cache-Control": "no-store" });
        res.end(body);
      };
      if (req.method !== "GET") {
        res.setHeader("Allow", "GET");
        return answer(405, "");
      }
      const fault = faults.shift();
      const stage = { req, res, answer, record, closing: params.closing, statusBody: () => "" };
      if (await playFault(fault, stage)) return;
      const source = await verified(req);
      if (source === undefined) {
        res.setHeader("WWW-Authenticate", 'Bearer error="invalid_token"');
        return answer(401, "");
      }
      const token = await altinnToken(source, fault?.type !== "missing-expires-in");
      return emulator.answerAs === "json-string"
        ? answer(200, JSON.stringify(token), "application/json")
        : answer(200, token);
    },
  };
  return emulator;
}
