// GET /health: what the configuration says, from Config and the loaded policy only (never KMS or Maskinporten).
import type { Config } from "../config/index.ts";
import type { Policy } from "../policy/index.ts";

export interface HealthReport {
  status: "ok";
  maskinporten_env: Config["maskinporten"]["env"];
  issuer: string;
  client_id: string;
  key_source: Config["signing"]["key"]["source"];
  alg: Config["signing"]["alg"];
  policy_rules: number;
}

export function healthOf(config: Config, policy: Policy): HealthReport {
  return {
    status: "ok",
    maskinporten_env: config.maskinporten.env,
    issuer: config.maskinporten.issuer,
    client_id: config.maskinporten.clientId,
    key_source: config.signing.key.source,
    alg: config.signing.alg,
    policy_rules: policy.rules.length,
  };
}
