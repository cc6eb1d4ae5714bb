/** Files the supervisor made, known by which file they are, so that it removes its own and never one made there since. */
import * as fs from "node:fs"

/**
 * Which file is at `path` (device, inode, birth), or undefined when none is. An inode's number alone is
 * not enough: a file system reuses a deleted file's number for the next one made (ext4 at once).
 */
export const identityOf = (path: string): string | undefined => {
  try {
    const stat = fs.statSync(path, { bigint: true })
    return `${stat.dev}:${stat.ino}:${stat.birthtimeNs}`
  } catch {
    return undefined
  }
}

export const sameFile = (now: string | undefined, made: string | undefined) => now !== undefined && now === made

/** Removes the file just made at `path`, later, if it is still that file (not one made there since). */
export const removeOwn = (path: string) => {
  const made = identityOf(path)
  return () => {
    if (sameFile(identityOf(path), made)) fs.rmSync(path, { force: true })
  }
}
