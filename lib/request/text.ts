// A request or policy string whose one message says what it must be: one valibot schema, not a string and a check.
import * as v from "valibot";

/**
 * A string `test` accepts (typed `T` when `test` proves it), else `message`, for a value of any other type too: the
 * fields whose type message and rule message are one.
 */
export const textSchema = <T extends string = string>(test: (value: string) => boolean, message: string) =>
  v.custom<T>((value) => typeof value === "string" && test(value), message);
