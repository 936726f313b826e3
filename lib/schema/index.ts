// What the project's valibot schemas share: a strict object's messages that name the missing or unknown field.
import * as v from "valibot";

/** How a document names what is wrong with an object as a whole. */
export interface ObjectMessages {
  /** The input is not an object at all. */
  notObject: string;
  /** Fields a strict object does not know, every one of them (valibot's issue names only the first). */
  unknown?: (keys: string[]) => string;
}

/** A required field's own first message (a pipe carries its first schema's), as when the field has a bad value. */
function missingMessage(entries: v.ObjectEntries, key: string): string {
  const message = (entries[key] as { message?: unknown } | undefined)?.message;
  return typeof message === "string" ? message : "required";
}

/**
 * The message of an object's own issue, for `v.strictObject(entries, objectMessages(entries, …))` (or
 * `v.object`): not an object, a required field missing (that field's message, so a missing field reads like a
 * wrong one), or fields a strict object does not know.
 */
export function objectMessages(
  entries: v.ObjectEntries,
  messages: ObjectMessages,
): (issue: v.ObjectIssue | v.StrictObjectIssue) => string {
  return (issue) => {
    const at = issue.path?.[0];
    if (at?.type !== "object") return messages.notObject;
    if (issue.expected !== "never") return missingMessage(entries, at.key);
    const unknown = Object.keys(at.input).filter((key) => !Object.hasOwn(entries, key));
    return messages.unknown?.(unknown) ?? `unknown field(s) ${unknown.join(", ")}`;
  };
}

/** The keys and indexes down to the field an issue is about; an unknown field's own name is left to its message. */
export function issuePath(issue: v.BaseIssue<unknown>): (string | number)[] {
  const path = (issue.path ?? []).map((item) => item.key as string | number);
  return issue.type === "strict_object" && issue.expected === "never" ? path.slice(0, -1) : path;
}

/** A JSON object: not null, not an array. */
export const isRecord = (input: unknown): input is Record<string, unknown> =>
  typeof input === "object" && input !== null && !Array.isArray(input);

/**
 * A JSON document's top-level object with exactly these fields, messages as objectMessages gives them. An array
 * is refused as not an object (valibot's object schemas take one, reading its indexes as keys).
 */
export function strictDocument<E extends v.ObjectEntries>(entries: E, messages: ObjectMessages) {
  return v.pipe(
    v.custom<unknown>(isRecord, messages.notObject),
    v.strictObject(entries, objectMessages(entries, messages)),
  );
}
