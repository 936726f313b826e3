// The daily key watch (a schedule, not a route): every client's registered key -> status record, metrics, auto-renewal.
import middy from "@middy/core";
import type { Context, ScheduledEvent } from "aws-lambda";
import { loadKeyConfig } from "../lib/config/index.ts";
import { KeyWatch, type WatchedClient } from "../lib/keys/index.ts";
import { lazy } from "./http.ts";

export type KeyWatchHandler = (event: ScheduledEvent, context: Context) => Promise<WatchedClient[]>;

/** Runs the watch; a client that could not be read or renewed fails the invocation (after the others ran). */
export function createKeyWatchHandler(source: () => Promise<KeyWatch>): KeyWatchHandler {
  return middy<ScheduledEvent, WatchedClient[]>().handler(async () => (await source()).run());
}

const defaultWatch = lazy(() => KeyWatch.fromConfig(loadKeyConfig()));

export const handler: KeyWatchHandler = createKeyWatchHandler(defaultWatch);
