// GET /health: what the configuration says, from Config and the loaded policy only (never KMS or Maskinporten).
import type { Config, SigningAlg, SigningKeyRef } from "../config/index.ts";
import type { Policy } from "../policy/index.ts";

export interface HealthReport {
  status: "ok";
  maskinporten_env: Config["maskinporten"]["env"];
  issuer: string;
  clients: { name: string; client_id: string; key_source: SigningKeyRef["source"]; alg: SigningAlg }[];
  policy_rules: number;
}

export function healthOf(config: Config, policy: Policy): HealthReport {
  return {
    status: "ok",
    maskinporten_env: config.maskinporten.env,
    issuer: config.maskinporten.issuer,
    clients: config.clients.map((client) => ({
      name: client.name,
      client_id: client.clientId,
      key_source: client.signing.key.source,
      alg: client.signing.alg,
    })),
    policy_rules: policy.rules.length,
  };
}
