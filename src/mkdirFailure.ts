import * as fs from "node:fs"

/**
 * Why `mkdir -p dir` failed, in the kernel's words: Node's recursive mkdir says ENOENT on a read-only file
 * system (`docker run --read-only`), where `dir`'s parent is there; a plain mkdir of it says EROFS (or
 * EACCES), which names what a person must change.
 */
export const mkdirFailure = (dir: string, error: unknown): unknown => {
  if ((error as NodeJS.ErrnoException).code !== "ENOENT") return error
  try {
    // Private, as every directory taskmux makes: should this one succeed (the file system writable since),
    // the directory it leaves is one its caller would have made.
    fs.mkdirSync(dir, { mode: 0o700 })
    return error
  } catch (plain) {
    return (plain as NodeJS.ErrnoException).code === "ENOENT" ? error : plain
  }
}
