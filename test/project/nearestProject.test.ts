/** Which project taskmux in a subdirectory means: the nearest one up with a task file (or, for the CLI, a supervisor). */
import { chownSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { runtimePaths } from "../../src/daemon/runtimePaths.ts"
import { nearestProject, taskFileProject } from "../../src/project/nearestProject.ts"
import { readProject } from "../../src/project/Project.ts"

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

  it("stops at a linked worktree inside its own checkout (`.worktrees/feat`), as git does: the main checkout's file is not its", () => {
    const main = realpathSync(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-wt-")))
    writeFileSync(NodePath.join(main, "taskmux.yaml"), "tasks: {}\n")
    mkdirSync(NodePath.join(main, ".git", "worktrees", "feat"), { recursive: true })
    const tree = NodePath.join(main, ".worktrees", "feat")
    const src = NodePath.join(tree, "src")
    mkdirSync(src, { recursive: true })
    writeFileSync(NodePath.join(tree, ".git"), `gitdir: ${NodePath.join(main, ".git", "worktrees", "feat")}\n`)
    expect(taskFileProject(src)).toBe(src)
    expect(nearestProject(src, env)).toBe(src)
    // Its own task file (committed on its branch) is its project, as anywhere.
    writeFileSync(NodePath.join(tree, "taskmux.yaml"), "tasks: {}\n")
    expect(taskFileProject(src)).toBe(tree)
    // A submodule or a plain subdirectory climbs on.
    const plain = NodePath.join(main, "packages", "api")
    mkdirSync(plain, { recursive: true })
    expect(taskFileProject(plain)).toBe(main)
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

describe("another user's task file", () => {
  // Tests run as root, which may give a file to any uid: 54321 stands for another user of the machine.
  const asRoot = process.getuid?.() === 0

  it.runIf(asRoot)("is not this user's project: climbed past up the tree, and not read where it is", async () => {
    // /tmp/taskmux.yaml, written by anyone, above a clone in /tmp: its tasks would run as this user.
    const shared = realpathSync(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-shared-")))
    const clone = NodePath.join(shared, "myclone")
    mkdirSync(clone)
    const planted = NodePath.join(shared, "taskmux.yaml")
    writeFileSync(planted, "tasks:\n  dev: { command: npm run dev, env: { NODE_OPTIONS: --require /tmp/x.js } }\n")
    chownSync(planted, 54321, 54321)
    expect(taskFileProject(clone)).toBe(clone)
    expect(nearestProject(clone, env)).toBe(clone)
    // Where it is the directory's own file, it is not read either, and the answer says why.
    const state = await readProject(shared)
    expect(state.file).toBeUndefined()
    expect(state.error?.message).toBe(
      `${planted}: belongs to uid 54321, not to you (uid 0) nor to whoever owns ${shared} and ${shared}: not ` +
        "read, as its tasks would run as you"
    )
    // Root's own files are this user's too (a system-wide checkout).
    chownSync(planted, 0, 0)
    expect(taskFileProject(clone)).toBe(shared)
  })

  it.runIf(asRoot)(
    "is read in a checkout of that user's, worked in (root in a container, on a bind mount)",
    async () => {
      const checkout = realpathSync(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-mounted-")))
      const sub = NodePath.join(checkout, "packages", "web")
      mkdirSync(sub, { recursive: true })
      writeFileSync(NodePath.join(checkout, "taskmux.yaml"), "tasks:\n  web: { command: npm run dev }\n")
      for (
        const path of [checkout, NodePath.join(checkout, "packages"), sub, NodePath.join(checkout, "taskmux.yaml")]
      ) {
        chownSync(path, 54321, 54321)
      }
      expect(taskFileProject(sub)).toBe(checkout)
      expect([...(await readProject(checkout)).file!.tasks.keys()]).toEqual(["web"])
    }
  )

  it("nor is a task file that links out of the project (a Procfile pointing at ~/.pypirc)", async () => {
    const top = realpathSync(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-link-")))
    const secret = NodePath.join(os.tmpdir(), `taskmux-secret-${process.pid}`)
    writeFileSync(secret, "password: pypi-AgEIcHlwaS5vcmc\n")
    const project = NodePath.join(top, "repo")
    mkdirSync(project)
    symlinkSync(secret, NodePath.join(project, "Procfile"))
    const state = await readProject(project)
    expect(state.file).toBeUndefined()
    expect(state.error?.message).toBe(
      `${NodePath.join(project, "Procfile")}: is a link to ${realpathSync(secret)}, outside ${project}: not read ` +
        "(copy the file in instead)"
    )
    // A climb stops at it, so that the project says why, rather than becoming a directory above it.
    writeFileSync(NodePath.join(top, "taskmux.yaml"), "tasks:\n  root-db: { command: sleep 60 }\n")
    expect(taskFileProject(project)).toBe(project)
    // A link within the project is read, and within its repository (a monorepo's shared file).
    writeFileSync(NodePath.join(project, "tasks.yaml"), "tasks:\n  web: { command: npm run dev }\n")
    symlinkSync("tasks.yaml", NodePath.join(project, "taskmux.yaml"))
    expect([...(await readProject(project)).file!.tasks.keys()]).toEqual(["web"])
    mkdirSync(NodePath.join(top, ".git"))
    const web = NodePath.join(top, "packages", "web")
    mkdirSync(web, { recursive: true })
    writeFileSync(NodePath.join(top, "Procfile.web"), "web: npm run dev\n")
    symlinkSync("../../Procfile.web", NodePath.join(web, "Procfile"))
    expect(taskFileProject(web)).toBe(web)
    expect([...(await readProject(web)).file!.tasks.keys()]).toEqual(["web"])
  })
})
