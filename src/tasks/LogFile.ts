/**
 * The complete record of one run of a task: every byte of its output, appended to a file
 * in batches (one write in flight, the rest queued), so the ring buffer can drop lines
 * while nothing is lost. Capped in size; failures are recorded, never thrown.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as NodePath from "node:path"

export interface LogStats {
  readonly path: string
  readonly bytes: number
  readonly capped: boolean
  readonly error: string | null
}

/** Queued bytes above which the writer asks its source to pause (the disk is slower than the task). */
const HIGH_WATER = 32 * 1024 * 1024

export class LogFile {
  readonly path: string
  private fd: number | undefined
  private readonly maxBytes: number
  private queue: Array<Buffer> = []
  private queued = 0
  private writing = false
  private accepted = 0
  private capped = false
  private error: string | null = null
  private drainWaiters: Array<() => void> = []
  private closeWaiters: Array<() => void> = []

  private constructor(path: string, fd: number | undefined, maxBytes: number, error: string | null) {
    this.path = path
    this.fd = fd
    this.maxBytes = maxBytes
    this.error = error
  }

  /** Creates the file (and its directory). On failure the log records why and drops writes. */
  static open(dir: string, name: string, maxBytes: number): LogFile {
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")
    const path = NodePath.join(dir, `${name}-${stamp}-${nextRun++}.log`)
    try {
      fs.mkdirSync(dir, { recursive: true })
      return new LogFile(path, fs.openSync(path, "a", 0o600), maxBytes, null)
    } catch (error) {
      return new LogFile(path, undefined, maxBytes, (error as Error).message)
    }
  }

  stats(): LogStats {
    return { path: this.path, bytes: this.accepted, capped: this.capped, error: this.error }
  }

  /** Queues a chunk. False asks the caller to pause its source until `onDrain`. */
  write(chunk: Buffer): boolean {
    if (this.fd === undefined || this.capped) return true
    let data = chunk
    if (this.accepted + data.length > this.maxBytes) {
      data = data.subarray(0, this.maxBytes - this.accepted)
      this.capped = true
    }
    this.accepted += data.length
    if (data.length > 0) this.enqueue(data)
    if (this.capped) {
      this.enqueue(Buffer.from(`\n[taskmux] log capped at ${this.maxBytes} bytes: later output is not in this file\n`))
    }
    return this.queued < HIGH_WATER
  }

  onDrain(resume: () => void): void {
    if (this.queued < HIGH_WATER) resume()
    else this.drainWaiters.push(resume)
  }

  /** Writes what is queued, then closes the file. */
  readonly close: Effect.Effect<void> = Effect.callback<void>((resume) => {
    if (this.fd === undefined) return resume(Effect.void)
    this.closeWaiters.push(() => resume(Effect.void))
    this.pump()
  })

  private enqueue(data: Buffer) {
    this.queue.push(data)
    this.queued += data.length
    this.pump()
  }

  private pump() {
    if (this.writing || this.fd === undefined) return
    if (this.queue.length === 0) {
      if (this.closeWaiters.length > 0) {
        const fd = this.fd
        this.fd = undefined
        fs.close(fd, () => this.closeWaiters.splice(0).forEach((done) => done()))
      }
      return
    }
    const batch = this.queue
    this.queue = []
    this.writing = true
    fs.writev(this.fd, batch, (error, bytes) => {
      this.writing = false
      const size = batch.reduce((n, b) => n + b.length, 0)
      this.queued -= size
      if (error || bytes < size) {
        // The disk said no (full, gone): stop accepting, and say why in get_task.
        this.error = error?.message ?? `short write (${bytes} of ${size} bytes)`
        this.queue = []
        this.queued = 0
        this.capped = true
      }
      if (this.queued < HIGH_WATER) this.drainWaiters.splice(0).forEach((resume) => resume())
      this.pump()
    })
  }
}

let nextRun = 1
