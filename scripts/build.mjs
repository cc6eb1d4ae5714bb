// Bundles the server into one ESM file: one read at start-up instead of hundreds of module loads.
import { build } from "esbuild"

await build({
  entryPoints: ["src/main.ts"],
  outfile: "dist/main.js",
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  minifySyntax: true,
  sourcemap: "linked",
  logLevel: "warning",
  banner: {
    // Some CommonJS dependencies call require(): give the ESM bundle one.
    js:
      "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
  }
})
