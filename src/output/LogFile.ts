/**
 * The complete record of one run of a task: every byte of its output, appended to a file
 * in batches (one write in flight, the rest queued), so the ring buffer can drop lines
 * while nothing is lost. Capped in size, with the run's last lines added at its end (the
 * caller's, see `appendAfterCap`); failures are recorded, never thrown.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as NodePath from "node:path"
import { mkdirFailure } from "../mkdirFailure.ts"
import { isAlive } from "../process/isAlive.ts"

export interface LogStats {
  readonly path: string
  readonly bytes: number
  readonly capped: boolean
  readonly error: string | null
}

/**
 * Queued bytes above which the writer asks its source to pause (the disk is slower than the task):
 * memory a flood costs. A 500 MB `yes` flood peaked at 97-142 MB RSS with 32 MiB here, 91-98 MB
 * with 4 MiB, in the same time.
 */
const HIGH_WATER = 4 * 1024 * 1024

/**
 * Output is copied into slabs as it comes (the read buffer it arrives in is reused, see
 * PipeProcess) and they go out in one writev. Written slabs are all reused until the file closes:
 * a slab let go is garbage that waits for a collection, and a flood made 20 MB of it (25 MB more
 * RSS). A quiet task's first slab is small, a flood's grow to this.
 */
const SLAB_BYTES = 256 * 1024
const FIRST_SLAB_BYTES = 4 * 1024

interface Slab {
  readonly bytes: Buffer
  used: number
}

/**
 * Log file operations (opens, writes, closes) in flight at once, of every task. Each one in flight holds one
 * of libuv's four threads, and a disk that stops answering (a hung NFS mount, a file system frozen for a
 * snapshot) holds it until it answers again: with a thread per task, four tasks left none for anything
 * else (a start's look at its cwd), and every start_task waited without end. The rest wait here instead.
 */
const LOG_OPS_AT_ONCE = 2
let logOpsInFlight = 0
const logOpsWaiting: Array<() => void> = []

/** Runs `op` once fewer than LOG_OPS_AT_ONCE are in flight; it calls `done` when its callback has run. */
const inTurn = (op: (done: () => void) => void): void => {
  const run = () => {
    logOpsInFlight++
    op(() => {
      logOpsInFlight--
      logOpsWaiting.shift()?.()
    })
  }
  if (logOpsInFlight < LOG_OPS_AT_ONCE) run()
  else logOpsWaiting.push(run)
}

/** A file operation of the log directory's, in turn (see inTurn), as a promise. */
const inTurnAsync = <A>(op: () => Promise<A>): Promise<A> =>
  new Promise((resolve, reject) => inTurn((done) => op().then(resolve, reject).finally(done)))

/** Directories made (or being made) by this process: one mkdir per directory, not one per run. */
const madeDirs = new Map<string, Promise<void>>()

/**
 * The log directory, made private whatever the umask (task output holds tokens and keys), and refused
 * when another user's: one who made `/tmp/taskmux-logs` first would read every run's output.
 */
const makeDir = (dir: string): Promise<void> => {
  let made = madeDirs.get(dir)
  if (made === undefined) {
    // The directory itself is made private. Parents made on the way (`~/.local`, `~/.local/state`) are
    // 0755 at most: not 0700, which would lock their owner out of a `~/.local` made by root (sudo -E),
    // nor 0777 under umask 000, where another user could add a `~/.local/bin` that ~/.profile puts on PATH.
    made = fs.promises.mkdir(NodePath.dirname(dir), { recursive: true, mode: 0o755 }).then(() =>
      fs.promises.mkdir(dir, { mode: 0o700 }).then(
        () => dir,
        async (error: NodeJS.ErrnoException) => {
          // There already: as a directory only (a file there is said as mkdir would say it).
          if (error.code === "EEXIST" && (await fs.promises.stat(dir)).isDirectory()) return undefined
          throw error
        }
      )
    ).catch((error: unknown) => {
      throw mkdirFailure(dir, error)
    }).then(async (first) => {
      if (first !== undefined) await fs.promises.chmod(dir, 0o700)
      const uid = process.getuid?.()
      const { uid: owner } = await fs.promises.stat(dir)
      if (uid !== undefined && owner !== uid) {
        throw new Error(
          `the log directory ${dir} belongs to uid ${owner}, not to you (uid ${uid}): use a --log-dir of your own`
        )
      }
    })
    made.catch(() => madeDirs.delete(dir))
    madeDirs.set(dir, made)
  }
  return made
}

/**
 * A new file only, never one that is there: a name planted in a shared directory (a link to
 * `~/.bashrc`, a FIFO that would block the open) fails the open instead of taking the output.
 */
const NEW_FILE = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_EXCL |
  (fs.constants.O_NOFOLLOW ?? 0)

/** A run log's name: `NAME-20261204T225000Z-PID-N.log`, PID the server that wrote it. */
const RUN_LOG = /^[\w.@:+-]+-\d{8}T\d{6}Z-(\d+)-\d+\.log$/

/**
 * The newest `keep` of a task's run logs, oldest first; the older ones' files are deleted (best effort):
 * those runs have ended, their files are closed, and this list is all that points at them.
 */
export const dropOldRunLogs = (files: Array<string>, keep: number): Array<string> => {
  for (const old of files.splice(0, Math.max(0, files.length - keep))) {
    void inTurnAsync(() => fs.promises.unlink(old)).catch(() => {})
  }
  return files
}

/**
 * Deletes the run logs in `dir` last written more than `keepDays` ago, but those of another server still
 * alive (a task silent that long is still running: supervisors of several projects share the directory),
 * and of this one those in `inUse` (its tasks' runs). One log per run, kept forever, grew to thousands of
 * files. Best effort: what cannot go stays.
 */
export const pruneOldLogs = async (
  dir: string,
  keepDays: number,
  now = Date.now(),
  inUse: ReadonlySet<string> = new Set()
): Promise<number> => {
  const before = now - keepDays * 24 * 60 * 60 * 1000
  let names: Array<string>
  try {
    names = await inTurnAsync(() => fs.promises.readdir(dir))
  } catch {
    return 0
  }
  let deleted = 0
  for (const name of names) {
    const pid = RUN_LOG.exec(name)?.[1]
    if (pid === undefined) continue
    const path = NodePath.resolve(dir, name)
    if (Number(pid) === process.pid ? inUse.has(path) : isAlive(Number(pid))) continue
    try {
      if ((await inTurnAsync(() => fs.promises.stat(path))).mtimeMs >= before) continue
      await inTurnAsync(() => fs.promises.unlink(path))
      deleted++
    } catch {
      // Gone already, or not ours to delete.
    }
  }
  return deleted
}

export class LogFile {
  readonly path: string
  /** Undefined while the file is being opened, and after it is closed or failed. */
  private fd: number | undefined
  private opening = true
  private readonly maxBytes: number
  private queue: Array<Slab> = []
  private spare: Array<Buffer> = []
  private slabBytes = FIRST_SLAB_BYTES / 2
  private queued = 0
  private writing = false
  private accepted = 0
  private capped = false
  private capWritten = 0
  private error: string | null = null
  private deleted = false
  private looking = false
  /** When it last looked (see lookUnlinked). */
  private lookedAt = -Infinity
  private drainWaiters: Array<() => void> = []
  private closeWaiters: Array<() => void> = []

  private constructor(path: string, maxBytes: number) {
    this.path = path
    this.maxBytes = maxBytes
  }

  /**
   * Creates the file (and its directory) off the event loop; writes queue until it is open.
   * On failure the log records why and drops writes.
   */
  static open(dir: string, name: string, maxBytes: number): LogFile {
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")
    // The server's pid too: supervisors of several projects share the directory, each counting from 1.
    const log = new LogFile(NodePath.join(dir, `${name}-${stamp}-${process.pid}-${nextRun++}.log`), maxBytes)
    const openIn = (retry: boolean) =>
      makeDir(dir).then(
        () =>
          inTurn((done) =>
            fs.open(log.path, NEW_FILE, 0o600, (error, fd) => {
              done()
              if (error?.code === "ENOENT" && retry) {
                // The directory was removed since we made it: make it again, once.
                madeDirs.delete(dir)
                return openIn(false)
              }
              log.opened(error, fd)
            })
          ),
        (error: NodeJS.ErrnoException) => log.opened(error, -1)
      )
    openIn(true)
    return log
  }

  private opened(error: NodeJS.ErrnoException | null, fd: number) {
    this.opening = false
    if (error) {
      this.error = error.message
      // Nothing of what came while it was opening is in a file.
      this.accepted = 0
      this.queue = []
      this.queued = 0
      this.drainWaiters.splice(0).forEach((resume) => resume())
      this.closeWaiters.splice(0).forEach((done) => done())
      return
    }
    this.fd = fd
    this.pump()
  }

  /** It reached its cap: later output is not written (but for what `appendAfterCap` adds). */
  get isCapped(): boolean {
    return this.capped
  }

  /** How much of the chunk that reached the cap went into the file. */
  get cappedChunkWritten(): number {
    return this.capWritten
  }

  /**
   * Adds text past the cap (the run's last lines, at its end): writing every byte of a flood to a file
   * that rotates would cost the flood as much again (a 500 MB one took 1.4-1.9× the time, against 1.0-1.25×).
   */
  appendAfterCap(text: string): void {
    if (!this.capped || this.error !== null || (this.fd === undefined && !this.opening) || text === "") return
    const data = Buffer.from(text)
    this.accepted += data.length
    this.enqueue(data)
  }

  stats(): LogStats {
    this.lookUnlinked()
    return {
      path: this.path,
      bytes: this.accepted,
      capped: this.capped,
      error: this.error ?? (this.deleted ? DELETED_WHILE_OPEN : null)
    }
  }

  /**
   * Whether it was deleted while open (an `rm` of the log directory), looked at in turn, off the event loop:
   * a disk that stops answering must not hold a get_task, and every session with it. The next stats says it.
   */
  private lookUnlinked() {
    const fd = this.fd
    const now = performance.now()
    // At most once a second: each look is a trip through libuv's threadpool, which a client calling
    // get_task in a loop paid at every call (bench row 3: 8 % on get_task).
    if (fd === undefined || this.looking || now - this.lookedAt < LOOK_EVERY_MS) return
    this.lookedAt = now
    this.looking = true
    inTurn((done) =>
      fs.fstat(fd, (error, stat) => {
        done()
        this.looking = false
        // Closed meanwhile (its number may be another file's by now): nothing learnt.
        if (error === null && this.fd === fd) this.deleted = stat.nlink === 0
      })
    )
  }

  /** Queues a copy of a chunk. False asks the caller to pause its source until `onDrain`. */
  write(chunk: Buffer): boolean {
    if (this.error !== null || this.capped || (this.fd === undefined && !this.opening)) return true
    let data = chunk
    if (this.accepted + data.length > this.maxBytes) {
      data = data.subarray(0, this.maxBytes - this.accepted)
      this.capped = true
      this.capWritten = data.length
    }
    this.accepted += data.length
    if (data.length > 0) this.enqueue(data)
    if (this.capped) {
      // Counted: `bytes` is the file's size.
      const note = Buffer.from(
        `\n[taskmux] log capped at ${this.maxBytes} bytes: later output is not in this file, ` +
          "but for the run's last lines, added when it ends\n"
      )
      this.accepted += note.length
      this.enqueue(note)
    }
    return this.queued < HIGH_WATER
  }

  onDrain(resume: () => void): void {
    if (this.queued < HIGH_WATER) resume()
    else this.drainWaiters.push(resume)
  }

  /** Writes what is queued, then closes the file. */
  readonly close: Effect.Effect<void> = Effect.callback<void>((resume) => {
    if (this.fd === undefined && !this.opening) return resume(Effect.void)
    this.closeWaiters.push(() => resume(Effect.void))
    this.pump()
  })

  private enqueue(data: Buffer) {
    let slab = this.queue.at(-1)
    for (let from = 0; from < data.length;) {
      if (slab === undefined || slab.used === slab.bytes.length) {
        slab = { bytes: this.spare.pop() ?? this.newSlab(), used: 0 }
        this.queue.push(slab)
      }
      const end = Math.min(data.length, from + slab.bytes.length - slab.used)
      slab.used += data.copy(slab.bytes, slab.used, from, end)
      from = end
    }
    this.queued += data.length
    this.pump()
  }

  private newSlab(): Buffer {
    this.slabBytes = Math.min(SLAB_BYTES, 2 * this.slabBytes)
    return Buffer.allocUnsafeSlow(this.slabBytes)
  }

  private pump() {
    if (this.writing || this.fd === undefined) return
    if (this.queue.length === 0) {
      if (this.closeWaiters.length > 0) {
        const fd = this.fd
        this.fd = undefined
        this.spare = []
        inTurn((done) =>
          fs.close(fd, () => {
            done()
            this.closeWaiters.splice(0).forEach((resume) => resume())
          })
        )
      }
      return
    }
    const batch = this.queue
    this.queue = []
    this.writing = true
    const fd = this.fd
    inTurn((done) =>
      fs.writev(fd, batch.map((slab) => slab.bytes.subarray(0, slab.used)), (error, bytes) => {
        done()
        this.writing = false
        const size = batch.reduce((n, slab) => n + slab.used, 0)
        this.queued -= size
        // At most HIGH_WATER queued and as much being written: that many slabs, reused over and over.
        for (const slab of batch) if (slab.bytes.length === this.slabBytes) this.spare.push(slab.bytes)
        if (error || bytes < size) {
          // The disk said no (full, gone): stop accepting, and say why in get_task.
          // Not capped (its cap is --log-max-bytes): failed, and `error` says why.
          this.error = error?.message ?? `short write (${bytes} of ${size} bytes: is the disk full?)`
          // What was queued behind this batch is dropped with it: `bytes` stays the file's size.
          this.accepted -= size - bytes + this.queued
          this.queue = []
          this.queued = 0
        }
        if (this.queued < HIGH_WATER) this.drainWaiters.splice(0).forEach((resume) => resume())
        this.pump()
      })
    )
  }
}

let nextRun = 1

/** How often a log file is looked at for having been deleted while open, at most. */
const LOOK_EVERY_MS = 1_000

const DELETED_WHILE_OPEN = "the log file was deleted while the task ran: its output reaches no file until its next run"
