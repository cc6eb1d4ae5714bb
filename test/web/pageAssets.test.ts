/** The page's files: read once from the built directory, and what a GET of each answers. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { headerTokenOf, tokensOf } from "../../src/web/guard.ts"
import { type Asset, loadAssets, pageAsset } from "../../src/web/pageAssets.ts"
import { CONTENT_SECURITY_POLICY } from "../../src/web/securityHeaders.ts"

const tokens = tokensOf("c".repeat(64))
const html = `<head><meta name="taskmux-token" content=""><meta name="taskmux-read-only" content=""></head>`
const assets = new Map<string, Asset>([
  ["/index.html", { type: "text/html; charset=utf-8", body: Buffer.from(html) }],
  ["/app.html", { type: "text/html; charset=utf-8", body: Buffer.from("<p>app</p>") }],
  ["/assets/index-1a2b.js", { type: "text/javascript; charset=utf-8", body: Buffer.from("void 0") }]
])

describe("loadAssets", () => {
  it("keys each file by its path from the root, typed by its extension; none when not built", () => {
    const root = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-assets-"))
    mkdirSync(NodePath.join(root, "assets"))
    writeFileSync(NodePath.join(root, "index.html"), html)
    writeFileSync(NodePath.join(root, "assets", "font.woff2"), "w")
    writeFileSync(NodePath.join(root, "assets", "data.bin"), "b")
    const loaded = loadAssets(root)
    expect([...loaded.keys()].sort()).toEqual(["/assets/data.bin", "/assets/font.woff2", "/index.html"])
    expect(loaded.get("/assets/font.woff2")).toEqual({ type: "font/woff2", body: Buffer.from("w") })
    expect(loaded.get("/assets/data.bin")?.type).toBe("application/octet-stream")
    expect(loadAssets(undefined).size).toBe(0)
  })
})

describe("pageAsset", () => {
  it("fills the page's meta tags (its header token, read-only or not) and never lets it be cached", () => {
    for (const path of ["/", "/index.html"]) {
      const answer = pageAsset(assets, path, tokens.readOnly, true)
      expect(answer).toMatchObject({
        found: true,
        headers: {
          "Content-Security-Policy": CONTENT_SECURITY_POLICY,
          "Content-Type": "text/html; charset=utf-8",
          "Cache-Control": "no-store"
        }
      })
      expect(answer.found && answer.body.toString()).toBe(
        `<head><meta name="taskmux-token" content="${headerTokenOf(tokens.readOnly)}">` +
          `<meta name="taskmux-read-only" content="true"></head>`
      )
    }
  })

  it("gives any other file as built, kept a year; the MCP App and unknown paths are not here", () => {
    const answer = pageAsset(assets, "/assets/index-1a2b.js", tokens.full, false)
    expect(answer).toMatchObject({
      found: true,
      headers: { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "max-age=31536000, immutable" }
    })
    expect(answer.found && answer.body).toBe(assets.get("/assets/index-1a2b.js")!.body)
    expect(pageAsset(assets, "/app.html", tokens.full, false)).toEqual({ found: false, error: "Nothing at /app.html." })
    expect(pageAsset(assets, "/x", tokens.full, false)).toEqual({ found: false, error: "Nothing at /x." })
    expect(pageAsset(new Map(), "/", tokens.full, false)).toEqual({
      found: false,
      error: "The page is not built: run npm run build."
    })
  })
})
