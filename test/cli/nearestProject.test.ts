/** Which project a command in a subdirectory means: the nearest one up with a task file or a supervisor. */
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { nearestProject } from "../../src/cli/nearestProject.ts"

const env = { XDG_RUNTIME_DIR: mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-rt-")) }

describe("nearestProject", () => {
  it("finds the nearest task file up from a subdirectory, as git finds its repository", () => {
    const top = realpathSync(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-near-")))
    const deep = NodePath.join(top, "app", "src", "components")
    mkdirSync(deep, { recursive: true })
    writeFileSync(NodePath.join(top, "Procfile"), "web: npm run dev\n")
    expect(nearestProject(deep, env)).toBe(top)
    writeFileSync(NodePath.join(top, "app", "taskmux.yaml"), "tasks: {}\n")
    expect(nearestProject(deep, env)).toBe(NodePath.join(top, "app"))
    expect(nearestProject(top, env)).toBe(top)
  })

  it("is the directory itself where nothing up from it is a project", () => {
    const lone = realpathSync(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-lone-")))
    const sub = NodePath.join(lone, "sub")
    mkdirSync(sub)
    expect(nearestProject(sub, env)).toBe(sub)
  })
})
