// Builds the browser page (ui/) into dist/ui: index.html (with the two meta tags the server fills in)
// and hashed files under dist/ui/assets. Run by scripts/build.mjs after the server's bundle.
import { fileURLToPath } from "node:url"
import { defineConfig } from "vite"

const here = fileURLToPath(new URL(".", import.meta.url))

export default defineConfig({
  root: here,
  // Relative URLs: the page works wherever it is served from (the supervisor's root, or an app's frame).
  base: "./",
  publicDir: false,
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("../dist/ui", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    sourcemap: false,
    // The terminal emulator and its Unicode 11 widths are one chunk (~360 kB before gzip), loaded only for a terminal task.
    chunkSizeWarningLimit: 400,
    reportCompressedSize: false
  }
})
