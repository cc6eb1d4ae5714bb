/**
 * A taskmux started in a directory that has since been deleted (a `git worktree remove`, a
 * temporary checkout) cannot resolve anything relative: Node's `process.cwd()` throws. With a
 * project named (`--project DIR` or TASKMUX_PROJECT) it runs there; else it says what to do, in one
 * line rather than a stack trace.
 */
import * as NodePath from "node:path"
import { projectOption } from "./daemon/frontArgs.ts"

export const enterWorkingDirectory = (argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv): string | undefined => {
  try {
    process.cwd()
    return undefined
  } catch {
    const project = projectOption(argv, env)
    if (project === undefined || !NodePath.isAbsolute(project)) {
      return "taskmux: the working directory no longer exists (it was deleted): cd into one that does, or give --project with an absolute path"
    }
    try {
      process.chdir(project)
      return undefined
    } catch (error) {
      return `taskmux: the working directory no longer exists, and --project ${project} cannot be entered either (${
        (error as NodeJS.ErrnoException).code ?? String(error)
      })`
    }
  }
}
