// JSON text to a value, or undefined when it is not JSON: every body read off the wire is checked by a schema after this.

/** Never throws (JSON.parse's message would quote the text, which may hold a token or a key). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
