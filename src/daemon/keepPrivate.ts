/** The supervisor's directory and socket stay this user's alone (see Daemon.ts's stayReachable). */
import * as fs from "node:fs"

/** Of `files`, those open to other users, each made private again (its mode given), as `path (mode 777)`. */
export const keepPrivate = (files: ReadonlyArray<readonly [string, number]>): Array<string> =>
  files.flatMap(([path, mode]) => {
    const stat = fs.statSync(path, { throwIfNoEntry: false })
    if (stat === undefined || (stat.mode & 0o077) === 0) return []
    try {
      fs.chmodSync(path, mode)
    } catch {
      // Not this user's to change (then not this supervisor's either): said all the same.
    }
    return [`${path} (mode ${(stat.mode & 0o777).toString(8)})`]
  })
