/** Which project taskmux in a subdirectory means: the nearest one up with a task file (or, for the CLI, a supervisor). */
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { runtimePaths } from "../../src/daemon/runtimePaths.ts"
import { nearestProject, taskFileProject } from "../../src/project/nearestProject.ts"

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

describe("taskFileProject (a front's and the server alone's project)", () => {
  it("finds the nearest task file up, but not a supervisor higher up: a client in a subdirectory joins the project, not whatever runs above it", () => {
    const top = realpathSync(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-front-")))
    const deep = NodePath.join(top, "repo", "services", "api")
    mkdirSync(deep, { recursive: true })
    // A supervisor serves `top` (a client started there: its socket), with no task file.
    writeFileSync(runtimePaths(top, env).socket, "")
    expect(nearestProject(deep, env)).toBe(top)
    expect(taskFileProject(deep)).toBe(deep)
    writeFileSync(NodePath.join(top, "repo", "taskmux.yaml"), "tasks: {}\n")
    expect(taskFileProject(deep)).toBe(NodePath.join(top, "repo"))
    expect(nearestProject(deep, env)).toBe(NodePath.join(top, "repo"))
  })
})
