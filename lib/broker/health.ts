// GET /health: that the broker is up, and which version; nothing about its client, key or policy (the whole account may ask).

export interface HealthReport {
  status: "ok";
  version: string;
}

/**
 * package.json's version (bump both together; test/functions/routes.test.ts checks they agree). A literal, not an
 * import of package.json: that would put the whole manifest (about 2 KiB) into every bundle that says its version.
 */
export const VERSION = "0.1.0";

/** Called once configuration and policy have loaded: their content is not reported. */
export function healthOf(): HealthReport {
  return { status: "ok", version: VERSION };
}
