// The base of every domain error: a stable `code` to switch on, as jose's errors carry; the message names what to do.

export abstract class CodedError extends Error {
  abstract readonly code: string;
  /**
   * The class's own name, written out: the bundles are minified, so `new.target.name` would be a mangled
   * identifier in every stack trace, key watch message and log line that names the error.
   */
  abstract override readonly name: string;
}
