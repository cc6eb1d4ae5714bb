/**
 * Where the built page lives (`dist/ui`, Vite's output), from wherever this code was bundled: the bundle
 * in `dist/`, a chunk in `dist/chunks/`, or the sources in `src/web/` when tests import them. Only a directory inside `dist` is
 * taken, never the page's sources in `ui/`.
 */
import * as fs from "node:fs"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"

export const builtUiDir = (): string | undefined => {
  const here = NodePath.dirname(fileURLToPath(import.meta.url))
  return [NodePath.join(here, "ui"), NodePath.join(here, "..", "ui"), NodePath.join(here, "..", "..", "dist", "ui")]
    .find((dir) =>
      NodePath.basename(NodePath.dirname(dir)) === "dist" && fs.existsSync(NodePath.join(dir, "index.html"))
    )
}
