// The broker of this Lambda container, built from the environment on first use (token and jwks routes).
import { createBroker } from "../lib/broker/broker.ts";
import { loadConfig } from "../lib/config/index.ts";
import { lazy } from "./http.ts";

export const defaultBroker = lazy(async () => createBroker(loadConfig()));
