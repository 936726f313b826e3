// GET /health: that the broker is up, and which version; nothing about its client, key or policy (the whole account may ask).
import packageJson from "../../package.json" with { type: "json" };

export interface HealthReport {
  status: "ok";
  version: string;
}

export const VERSION: string = packageJson.version;

/** Called once configuration and policy have loaded: their content is not reported. */
export function healthOf(): HealthReport {
  return { status: "ok", version: VERSION };
}
