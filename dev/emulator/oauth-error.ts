// An OAuth 2.0 error response as Maskinporten sends it: `error`, and a description carrying the MP code.

export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly mpCode: string,
    readonly text: string,
    readonly status = 400,
  ) {
    super(`${mpCode} ${text}`);
  }
  get description(): string {
    return this.message;
  }
}
