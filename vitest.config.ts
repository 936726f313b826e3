import { defineConfig } from "vitest/config";
import { PYTHON_SUITES } from "./test/setup/suites.ts";

const NODE_VERSION = "test/setup/node-version.ts";

// Two projects: `npm test` runs both; `npm run test:unit` only "unit", which needs no Python and starts no moto.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/bench/**", "node_modules/**", ...PYTHON_SUITES],
          globalSetup: [NODE_VERSION],
        },
      },
      {
        extends: true,
        test: {
          name: "python",
          include: PYTHON_SUITES,
          globalSetup: [NODE_VERSION, "test/setup/moto.ts"],
        },
      },
    ],
  },
});
