/** The files a project's tasks are read from, and which of them may be. */
import * as fs from "node:fs"
import * as NodePath from "node:path"

/** The files a project's tasks are read from, in the order looked for (the first found is read). */
export const TASK_FILE_NAMES = ["taskmux.yaml", "taskmux.yml", "taskmux.json", "Procfile"] as const

/** Why a task file must not be read: whose it is, or where it links to. */
export interface Refusal {
  readonly kind: "owner" | "link"
  readonly problem: string
}

/**
 * Why the task file at `path` (a file) must not be read, or undefined when it may. Its tasks run as this
 * user, so it must be theirs, root's, or that of whoever owns both its directory and `start` (where the
 * search began: a checkout of theirs this user works in, as root in a container on a bind mount): a
 * `/tmp/taskmux.yaml` anyone may write, above a clone in `/tmp`, is none of these, as git ignores a
 * repository another user owns. Nor may it link out of its repository (a `Procfile` pointing at
 * `~/.pypirc` would put that file's lines in the assistant's context).
 */
export const refusedTaskFile = (path: string, stat: fs.Stats, start: string): Refusal | undefined => {
  const uid = process.getuid?.()
  if (uid !== undefined && stat.uid !== uid && stat.uid !== 0) {
    const dir = NodePath.dirname(path)
    if (ownerOf(dir) !== stat.uid || ownerOf(start) !== stat.uid) {
      return {
        kind: "owner",
        problem: `belongs to uid ${stat.uid}, not to you (uid ${uid}) nor to whoever owns ${dir} and ${start}: ` +
          "not read, as its tasks would run as you"
      }
    }
  }
  try {
    const real = fs.realpathSync(path)
    const root = repositoryOf(fs.realpathSync(NodePath.dirname(path)))
    if (!real.startsWith(root + NodePath.sep)) {
      return { kind: "link", problem: `is a link to ${real}, outside ${root}: not read (copy the file in instead)` }
    }
  } catch {
    return undefined // Gone since the stat: the read says so.
  }
  return undefined
}

const ownerOf = (path: string) => {
  try {
    return fs.statSync(path).uid
  } catch {
    return undefined
  }
}

/** The nearest directory at or above `dir` with a `.git` (a repository's root), else `dir` itself. */
const repositoryOf = (dir: string) => {
  for (let at = dir;; at = NodePath.dirname(at)) {
    if (fs.existsSync(NodePath.join(at, ".git"))) return at
    if (NodePath.dirname(at) === at) return dir
  }
}
