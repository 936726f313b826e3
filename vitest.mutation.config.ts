// Vitest for `npm run test:mutation` (scripts/mutation.ts picks each group's files): unit tests, no moto server.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/{request,policy,cache,grant,audit,maskinporten,broker}/**/*.test.ts"],
    globalSetup: ["test/setup/node-version.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
