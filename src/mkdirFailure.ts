import * as fs from "node:fs"
import * as NodePath from "node:path"

/**
 * Why `mkdir -p dir` failed, in the kernel's words: Node's recursive mkdir says ENOENT on a read-only file
 * system (`docker run --read-only`), where `dir`'s parent is there; a plain mkdir of it says EROFS (or
 * EACCES), which names what a person must change.
 */
export const mkdirFailure = (dir: string, error: unknown): unknown => {
  if ((error as NodeJS.ErrnoException).code !== "ENOENT") return error
  // The first directory on the way that is not there (`~/.local` of `~/.local/state/taskmux/logs`): its
  // parent is, so a plain mkdir of it says why.
  let missing = NodePath.resolve(dir)
  for (let parent = NodePath.dirname(missing); parent !== missing && !fs.existsSync(parent);) {
    missing = parent
    parent = NodePath.dirname(parent)
  }
  try {
    // Should this one succeed (the file system writable since), the directory it leaves is one its caller
    // would have made: private if it is `dir`, as every directory taskmux makes, else as the umask says.
    fs.mkdirSync(missing, missing === NodePath.resolve(dir) ? { mode: 0o700 } : {})
    return error
  } catch (plain) {
    return (plain as NodeJS.ErrnoException).code === "ENOENT" ? error : plain
  }
}
