/** The files a project's tasks are read from, and which of them may be. */
import * as fs from "node:fs"
import * as NodePath from "node:path"

/** The files a project's tasks are read from, in the order looked for (the first found is read). */
export const TASK_FILE_NAMES = ["taskmux.yaml", "taskmux.yml", "taskmux.json", "Procfile"] as const

/**
 * Why the task file at `path` (a file) must not be read, or undefined when it may. Its tasks run as
 * this user: one another user wrote (a `/tmp/taskmux.yaml` above a clone in `/tmp`) is not this
 * user's project, as git ignores a repository another user owns; a link out of the project (a
 * `Procfile` pointing at `~/.pypirc`) would put that file's lines in the assistant's context.
 */
export const refusedTaskFile = (path: string, stat: fs.Stats): string | undefined => {
  const uid = process.getuid?.()
  if (uid !== undefined && stat.uid !== uid && stat.uid !== 0) {
    return `belongs to uid ${stat.uid}, not to you (uid ${uid}): not read, as its tasks would run as you ` +
      `(take it with chown, or copy it, if you trust it)`
  }
  try {
    const real = fs.realpathSync(path)
    const dir = fs.realpathSync(NodePath.dirname(path))
    if (NodePath.dirname(real) !== dir && !real.startsWith(dir + NodePath.sep)) {
      return `is a link to ${real}, outside the project: not read (copy the file in instead)`
    }
  } catch {
    return undefined // Gone since the stat: the read says so.
  }
  return undefined
}
