// A JSON document the environment names: written inline in a variable, or in a file it points to; its text.
import { readFileSync } from "node:fs";

export type DocumentSource = { kind: "inline"; json: string } | { kind: "file"; path: string };

/** The document's text, or what stops it being read: `<origin>: cannot read the file (ENOENT)`. */
export function documentText(source: DocumentSource, origin: string): { text: string } | { error: string } {
  if (source.kind === "inline") return { text: source.json };
  try {
    return { text: readFileSync(source.path, "utf8") };
  } catch (error) {
    return { error: `${origin}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? "error"})` };
  }
}
