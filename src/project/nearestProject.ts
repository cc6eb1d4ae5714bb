/**
 * Which project a taskmux started in a subdirectory means, as git finds its repository from one: the
 * nearest directory at or above it with a task file of this user's; the directory itself when none has. The CLI
 * also counts a directory whose supervisor runs (or left a record): `taskmux ps` in `src/components`
 * is about the project its supervisor serves. A front does not: it would join whatever a supervisor
 * serves higher up (a client started in the home directory), and run its tasks there.
 */
import * as fs from "node:fs"
import * as NodePath from "node:path"
import { runtimePaths } from "../daemon/runtimePaths.ts"
import { refusedTaskFile, TASK_FILE_NAMES } from "./taskFileNames.ts"

/** The nearest directory with a task file, for a front and the server alone. */
export const taskFileProject = (cwd: string): string => nearest(cwd, (dir) => hasTaskFile(dir, cwd))

/** The nearest directory with a task file or a supervisor, for the CLI. */
export const nearestProject = (cwd: string, env: NodeJS.ProcessEnv): string =>
  nearest(cwd, (dir) => hasTaskFile(dir, cwd) || hasSupervisor(dir, env))

const nearest = (cwd: string, isProject: (dir: string) => boolean) => {
  for (let dir = NodePath.resolve(cwd);; dir = NodePath.dirname(dir)) {
    if (isProject(dir)) return dir
    // A linked worktree inside its own repository's checkout (`.worktrees/feat`) ends the climb, as git's
    // does: the task file above is the main checkout's, whose tasks run that checkout's code, not this one's.
    if (NodePath.dirname(dir) === dir || isWorktreeInsideItsCheckout(dir)) return cwd
  }
}

/** Whether `dir` is a linked worktree's root (`.git`: `gitdir: MAIN/.git/worktrees/NAME`) that lies inside MAIN. */
const isWorktreeInsideItsCheckout = (dir: string) => {
  try {
    const dotGit = NodePath.join(dir, ".git")
    if (fs.statSync(dotGit, { throwIfNoEntry: false })?.isFile() !== true) return false
    const gitdir = /^gitdir: (.*)$/m.exec(fs.readFileSync(dotGit, "utf8"))?.[1]?.trim()
    const main = gitdir === undefined
      ? undefined
      : /^(.*)[\\/]\.git[\\/]worktrees[\\/][^\\/]+$/.exec(NodePath.resolve(dir, gitdir))?.[1]
    return main !== undefined && dir.startsWith(main + NodePath.sep)
  } catch {
    return false
  }
}

/**
 * A task file, but another user's that this one may not use (`/tmp/taskmux.yaml`), climbed past as if it
 * were not there. One that links out of its repository stops the climb: the project says why it is not read.
 */
const hasTaskFile = (dir: string, start: string) =>
  TASK_FILE_NAMES.some((name) => {
    const path = NodePath.join(dir, name)
    try {
      const stat = fs.statSync(path, { throwIfNoEntry: false })
      return stat?.isFile() === true && refusedTaskFile(path, stat, start)?.kind !== "owner"
    } catch {
      return false
    }
  })

const hasSupervisor = (dir: string, env: NodeJS.ProcessEnv) => {
  try {
    const paths = runtimePaths(dir, env)
    return fs.existsSync(paths.socket) || fs.existsSync(paths.record)
  } catch {
    return false
  }
}
