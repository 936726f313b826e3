import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/bench/**", "node_modules/**"],
    globalSetup: ["test/setup/node-version.ts", "test/setup/moto.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
