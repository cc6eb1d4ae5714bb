import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/globalSetup.ts"],
    // Real processes: allow slow machines, never flake on timing.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    fileParallelism: true,
    // The JSON report lets CI print a plain "N passed, N failed" line.
    reporters: ["default", "json"],
    outputFile: { json: "test-results.json" }
  }
})
