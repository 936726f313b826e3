// The error of a configuration the function must refuse to start with; its message names what to fix.

export class ConfigError extends Error {
  override name = "ConfigError";
}
