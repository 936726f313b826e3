// The base of every domain error: a stable `code` to switch on, as jose's errors carry; the message names what to do.

export abstract class CodedError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
