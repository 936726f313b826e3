// Test support: the message of the ConfigError loadConfig throws for an environment (failing if it throws none).
import { expect } from "vitest";
import { ConfigError, loadConfig } from "../../lib/config/index.ts";

export function configErrorOf(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  return expect.unreachable("expected a ConfigError");
}
