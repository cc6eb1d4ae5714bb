/** The lock that keeps one supervisor per project, and whether a pid is a project's supervisor. */
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import { LostRace } from "../domain/errors.ts"
import { isAlive } from "../process/isAlive.ts"
import { pidIn } from "./connect.ts"
import { removeOwn } from "./fileIdentity.ts"

/**
 * One supervisor per project: a SQLite exclusive lock (Node's own `node:sqlite`), which the kernel
 * drops however the process ends, so a dead supervisor's lock is never in the way. Where Node has no
 * SQLite (before 22.5), a file made exclusively, naming its holder, stands in: one whose holder is
 * gone is taken over. A supervisor with SQLite holds that file too, so one started by a Node without
 * it (a terminal's Node 20 and an editor's Node 24 on one project) never runs beside it.
 */
export const holdLock = (file: string, project: string) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const sqlite = await import("node:sqlite").catch(() => undefined)
        if (sqlite === undefined) return holdPidFile(`${file}.pid`, project)
        try {
          return takeLock(sqlite, file, project)
        } catch (error) {
          // Not a database (a torn write, a file put there by hand): nobody can hold it, so it goes.
          if (((error as { errcode?: number }).errcode ?? 0) % 256 !== SQLITE_NOTADB) throw error
          fs.rmSync(file, { force: true })
          return takeLock(sqlite, file, project)
        }
      },
      // Only a lock someone holds is a lost race: a full disk or a read-only one is said as it is, not
      // as another supervisor (whom a front would wait for in vain).
      catch: (error) =>
        error instanceof LostRace ? error : new Error(`cannot take ${file}: ${(error as Error).message}`)
    }),
    (release) => Effect.sync(release)
  )

/** The lock's exclusive transaction, and the pid file beside it; its release. */
const takeLock = (sqlite: typeof import("node:sqlite"), file: string, project: string) => {
  // The user's only, as everything beside it is (SQLite's journal takes the same mode).
  fs.closeSync(fs.openSync(file, "a", 0o600))
  const db = new sqlite.DatabaseSync(file, { timeout: 0 })
  try {
    db.exec("BEGIN EXCLUSIVE")
    const releasePidFile = holdPidFile(`${file}.pid`, project)
    return () => {
      releasePidFile()
      db.close()
    }
  } catch (error) {
    db.close()
    if (error instanceof LostRace || isBusy(error)) {
      throw error instanceof LostRace ? error : new LostRace({ holder: `another supervisor holds ${file}` })
    }
    throw error
  }
}

/** SQLite's "file is not a database". */
const SQLITE_NOTADB = 26

/** SQLITE_BUSY or SQLITE_LOCKED (primary codes 5 and 6): the lock is another's. */
const isBusy = (error: unknown) => {
  const code = (error as { errcode?: unknown }).errcode
  return typeof code === "number" && ((code & 0xff) === 5 || (code & 0xff) === 6)
}

const holdPidFile = (file: string, project: string, again = true): () => void => {
  try {
    fs.writeFileSync(file, String(process.pid), { flag: "wx", mode: 0o600 })
    const made = removeOwn(file)
    // Not one that names another supervisor (made where this one's was, after it went).
    return () => pidIn(file) === process.pid && made()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
    const holder = Number(fs.readFileSync(file, "utf8"))
    if (!again || isAlive(holder) && isSupervisorOf(holder, project)) {
      throw new LostRace({ holder: `supervisor ${holder} holds ${file}` })
    }
    fs.rmSync(file, { force: true })
    return holdPidFile(file, project, false)
  }
}

/**
 * Whether `pid` is this project's supervisor, not a process that got a dead one's pid (another project's
 * supervisor included). Without /proc (macOS), `ps` says; where neither can, yes.
 */
export const isSupervisorOf = (pid: number, project: string, proc = "/proc") => {
  try {
    const args = fs.readFileSync(`${proc}/${pid}/cmdline`, "utf8").split("\0")
    return args.includes("supervise") && args.includes(project)
  } catch (error) {
    if (fs.existsSync(`${proc}/self`)) return (error as NodeJS.ErrnoException).code !== "ENOENT"
  }
  try {
    // -ww: the whole command line, whatever COLUMNS says.
    const command = execFileSync("ps", ["-ww", "-o", "command=", "-p", String(pid)], {
      encoding: "utf8",
      timeout: 2000,
      stdio: ["ignore", "pipe", "pipe"]
    })
    // Words, not substrings: /a/app's supervisor is not /a/app-web's.
    const words = ` ${command.trim()} `
    return words.includes(" supervise ") && words.includes(` ${project} `)
  } catch (error) {
    // ps exits 1, saying nothing, for a pid that is gone.
    const failed = error as { status?: number; stderr?: string }
    return failed.status !== 1 || (failed.stderr ?? "") !== ""
  }
}
