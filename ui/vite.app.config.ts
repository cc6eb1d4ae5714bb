// Builds the MCP App (ui/app.html → dist/ui/app.html): ONE file, its script and stylesheet inline, as a
// host loads an app (one HTML string into a sandboxed frame with no network). Run by scripts/build.mjs
// after the page's build (vite.config.ts), into the same directory.
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import type { Plugin } from "vite"
import { defineConfig } from "vite"

const here = fileURLToPath(new URL(".", import.meta.url))
const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string
}

/** Text safe inside an inline <script> or <style>: no "</script" or "</style" closes it early. */
const safeInline = (code: string, tag: "script" | "style") => code.replace(new RegExp(`</(${tag})`, "gi"), "<\\/$1")

/**
 * Moves each emitted script and stylesheet into the HTML that loads it, and drops the files: what is
 * left is the HTML alone. Fails the build if anything would still be fetched.
 */
const inlineEverything = (): Plugin => ({
  name: "taskmux-inline-app",
  enforce: "post",
  generateBundle(_options, bundle) {
    for (const html of Object.values(bundle)) {
      if (html.type !== "asset" || !html.fileName.endsWith(".html")) continue
      let text = String(html.source)
      const take = (ref: string) => {
        const name = ref.replace(/^\.\//, "")
        const file = bundle[name]
        if (file === undefined) this.error(`app.html refers to ${ref}, which the build did not emit`)
        delete bundle[name]
        const code = file.type === "chunk" ? file.code : String(file.source)
        // "<!--" inside an inline script changes how the HTML around it is parsed.
        if (code.includes("<!--")) this.error(`${ref} holds "<!--": it cannot be inlined as is`)
        return code
      }
      text = text.replace(
        /<script type="module"[^>]*\ssrc="([^"]+)"[^>]*><\/script>/g,
        (_, src: string) => `<script type="module">${safeInline(take(src), "script")}</script>`
      )
      text = text.replace(
        /<link rel="stylesheet"[^>]*\shref="([^"]+)"[^>]*>/g,
        (_, href: string) => `<style>${safeInline(take(href), "style")}</style>`
      )
      if (/<script[^>]+\ssrc=|<link[^>]+\shref=/.test(text)) this.error("app.html still loads a file")
      const left = Object.keys(bundle).filter((name) => name !== html.fileName)
      if (left.length > 0) this.error(`the app built more than one file: ${left.join(", ")}`)
      html.source = text
    }
  }
})

export default defineConfig({
  root: here,
  base: "./",
  publicDir: false,
  logLevel: "warn",
  define: { __TASKMUX_VERSION__: JSON.stringify(version) },
  plugins: [inlineEverything()],
  build: {
    outDir: fileURLToPath(new URL("../dist/ui", import.meta.url)),
    // The page's files are already there (built first).
    emptyOutDir: false,
    target: "es2022",
    sourcemap: false,
    // Nothing to preload: there is one script, and it is inline.
    modulePreload: false,
    cssCodeSplit: false,
    assetsInlineLimit: Number.POSITIVE_INFINITY,
    chunkSizeWarningLimit: 500,
    reportCompressedSize: false,
    rolldownOptions: {
      input: fileURLToPath(new URL("app.html", import.meta.url)),
      output: { codeSplitting: false }
    }
  }
})
