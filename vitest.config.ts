import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/globalSetup.ts"],
    // Each test's server serves it alone (as before the shared supervisor); the tests of the shared
    // supervisor say otherwise, with a runtime directory of their own.
    env: { TASKMUX_ISOLATED: "1" },
    // Real processes: allow slow machines, never flake on timing.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    fileParallelism: true,
    // The JSON report lets CI print a plain "N passed, N failed" line.
    reporters: ["default", "json"],
    outputFile: { json: "test-results.json" }
  }
})
