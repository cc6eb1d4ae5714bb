// Bundles the server into one minified ESM file (one read and a small parse at start-up
// instead of hundreds of module loads), behind a tiny entry that turns on Node's compile
// cache first, so every start after the first skips compiling the bundle.
import { build } from "esbuild"
import { randomBytes } from "node:crypto"
import { rmSync, writeFileSync } from "node:fs"
import { build as viteBuild } from "vite"

rmSync("dist", { recursive: true, force: true })

await build({
  entryPoints: { server: "src/main.ts" },
  outdir: "dist",
  // Code loaded only on demand (the OTLP exporter, the terminal emulator) goes into chunks of its own.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  minify: true,
  sourcemap: "linked",
  logLevel: "warning",
  // A native module cannot be bundled: it is a runtime dependency, loaded by the first terminal task.
  external: ["@lydell/node-pty"],
  // Each build its own id: a supervisor of a build since replaced on disk is told apart (daemon/hello.ts).
  define: { __TASKMUX_BUILD__: JSON.stringify(`${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`) },
  banner: {
    // Some CommonJS dependencies call require(): give the ESM bundle one.
    js:
      "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
  }
})

writeFileSync(
  "dist/main.js",
  `#!/usr/bin/env node
// taskmux entry: cache compiled code (Node >= 22.1), then load the bundled server.
import * as fs from "node:fs"
import * as module from "node:module"
import * as path from "node:path"
// In a directory of the user's own: Node's default is one in /tmp that whoever made it first owns, and
// code cache another user wrote would be loaded. None where no such directory can be had.
const cacheDir = () => {
  const home = process.env.HOME
  // A home that is not there (nobody's /nonexistent, a HOME mistyped) is none: not one to make.
  const base = process.env.XDG_CACHE_HOME || (home && fs.existsSync(home) ? path.join(home, ".cache") : "")
  if (!path.isAbsolute(base)) return undefined
  const dir = path.join(base, "taskmux", "compile-cache")
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  // It and every directory up to the cache's home: the user's (or root's), and no one else may write there.
  const uid = process.getuid?.()
  for (let at = dir; ; at = path.dirname(at)) {
    const stat = fs.statSync(at)
    if (uid === undefined || stat.uid !== uid && stat.uid !== 0 || (stat.mode & 0o022) !== 0) return undefined
    if (at === base) return (fs.statSync(dir).mode & 0o077) === 0 ? dir : undefined
  }
}
try {
  const dir = cacheDir()
  if (dir !== undefined) module.enableCompileCache?.(dir)
} catch {}
await import("./server.js")
`,
  // Executable, as the bin it is: npm link made it so once, and a rebuild must not undo that.
  { mode: 0o755 }
)

// The browser page (ui/): Vite builds it into dist/ui (index.html with the two meta tags the server
// fills in, and hashed files under dist/ui/assets). Then the MCP App (ui://taskmux/tasks): the same
// components in one self-contained file, dist/ui/app.html (script and stylesheet inline).
await viteBuild({ configFile: "ui/vite.config.ts", logLevel: "warn" })
await viteBuild({ configFile: "ui/vite.app.config.ts", logLevel: "warn" })
