/**
 * The page's files (`dist/ui`, built by Vite), read once when the listener starts, and what a GET of one
 * answers: its type, how long a browser keeps it, and for the page itself the two meta tags filled in.
 * A request names a key of the map or gets 404, never a path on disk.
 */
import * as fs from "node:fs"
import * as NodePath from "node:path"
import { headerTokenOf } from "./guard.ts"
import { securityHeaders } from "./securityHeaders.ts"

export interface Asset {
  readonly type: string
  readonly body: Buffer
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".json": "application/json"
}

/** The built page under `root` (none when it is not built), read once: each file by its path from there. */
export const loadAssets = (root: string | undefined): Map<string, Asset> => {
  const assets = new Map<string, Asset>()
  if (root === undefined) return assets
  const walk = (dir: string, prefix: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const path = NodePath.join(dir, entry.name)
      if (entry.isDirectory()) walk(path, `${prefix}${entry.name}/`)
      else if (entry.isFile()) {
        assets.set(`/${prefix}${entry.name}`, {
          type: TYPES[NodePath.extname(entry.name)] ?? "application/octet-stream",
          body: fs.readFileSync(path)
        })
      }
    }
  }
  walk(root, "")
  return assets
}

export type AssetAnswer =
  | { readonly found: true; readonly headers: Record<string, string>; readonly body: Buffer }
  | { readonly found: false; readonly error: string }

/**
 * What a GET of `path` (from the page's own path) answers: the page (`/`) with the header token of the
 * page's `token` and whether it is read-only in its meta tags, never cached; any other file for a year
 * (Vite's names change with their content).
 */
export const pageAsset = (
  assets: ReadonlyMap<string, Asset>,
  path: string,
  token: string,
  readOnly: boolean
): AssetAnswer => {
  // The MCP App (app.html) is the client's to show, through resources/read: not a page of this listener.
  const asset = path === "/app.html" ? undefined : assets.get(path === "/" ? "/index.html" : path)
  if (asset === undefined) {
    return {
      found: false,
      error: assets.size === 0 ? "The page is not built: run npm run build." : `Nothing at ${path}.`
    }
  }
  const html = path === "/" || path === "/index.html"
  const body = html
    ? Buffer.from(
      asset.body.toString("utf8")
        .replace(
          /<meta name="taskmux-token" content="">/,
          // Not the token: one good only beside its cookie (headerTokenOf).
          `<meta name="taskmux-token" content="${headerTokenOf(token)}">`
        )
        .replace(
          /<meta name="taskmux-read-only" content="">/,
          `<meta name="taskmux-read-only" content="${readOnly}">`
        )
    )
    : asset.body
  return {
    found: true,
    headers: {
      ...securityHeaders,
      "Content-Type": asset.type,
      "Cache-Control": html ? "no-store" : "max-age=31536000, immutable"
    },
    body
  }
}
