// Vitest for `npm run test:mutation`: the test files of the group Stryker mutates (MUTATION_TESTS, from
// scripts/mutation.ts), unit tests that need no moto server.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: (
      process.env.MUTATION_TESTS ?? "test/{request,policy,cache,grant,audit,maskinporten,broker}/**/*.test.ts"
    ).split(","),
    globalSetup: ["test/setup/node-version.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
