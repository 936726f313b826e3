// The error of a configuration the function must refuse to start with; its message names what to fix.
import { CodedError } from "../errors/coded.ts";

export class ConfigError extends CodedError {
  override readonly name: string = "ConfigError";
  readonly code = "invalid_configuration";
  /** One line per problem, each naming its variable: what another check's lines are merged with. */
  readonly problems: readonly string[];

  constructor(message: string, options: ErrorOptions & { problems?: readonly string[] } = {}) {
    super(message, options);
    this.problems = options.problems ?? [message];
  }
}
