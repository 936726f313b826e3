// Test support: the message of the ConfigError a loader (loadConfig by default) throws for an environment, failing if none.
import { expect } from "vitest";
import { ConfigError } from "../../lib/config/config-error.ts";
import { loadConfig } from "../../lib/config/index.ts";

export function configErrorOf(
  env: Record<string, string | undefined>,
  load: (env: Record<string, string | undefined>) => unknown = loadConfig,
): string {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  return expect.unreachable("expected a ConfigError");
}
