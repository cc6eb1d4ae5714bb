/**
 * The project a command run in `cwd` means, without --project: the nearest directory at or above it
 * that has a task file, a supervisor's socket or a supervisor's record, as git finds its repository
 * from a subdirectory; `cwd` itself when none has. (`taskmux ps` in `src/components` is about the
 * project its supervisor serves, not a new one for `components`.)
 */
import * as fs from "node:fs"
import * as NodePath from "node:path"
import { runtimePaths } from "../daemon/runtimePaths.ts"
import { TASK_FILE_NAMES } from "../project/taskFileNames.ts"

export const nearestProject = (cwd: string, env: NodeJS.ProcessEnv): string => {
  for (let dir = NodePath.resolve(cwd);; dir = NodePath.dirname(dir)) {
    if (isProject(dir, env)) return dir
    if (NodePath.dirname(dir) === dir) return cwd
  }
}

const isProject = (dir: string, env: NodeJS.ProcessEnv) => {
  if (TASK_FILE_NAMES.some((name) => fs.existsSync(NodePath.join(dir, name)))) return true
  try {
    const paths = runtimePaths(dir, env)
    return fs.existsSync(paths.socket) || fs.existsSync(paths.record)
  } catch {
    return false
  }
}
