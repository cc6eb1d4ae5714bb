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
    if (NodePath.dirname(dir) === dir) return cwd
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
