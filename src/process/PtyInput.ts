/**
 * What is typed into a terminal task, written to the pty's master without ever blocking the server.
 * Not node-pty's `write`: libuv cannot make a master's writes non-blocking (it cannot reopen one), so
 * it writes in a loop until all is taken, which spins the server's one thread for as long as the
 * program does not read. Here a write takes what the terminal takes now and tries the rest every
 * RETRY_MS, in order, until the program reads it or the terminal closes.
 */
import * as NodeFs from "node:fs"

const RETRY_MS = 20

interface Pending {
  data: Buffer
  readonly done: (error?: string) => void
}

export class PtyInput {
  private readonly queue: Array<Pending> = []
  private retry: ReturnType<typeof setTimeout> | undefined

  private readonly fd: number
  private readonly isOpen: () => boolean

  /** `isOpen`: whether the master's fd is still the terminal's (once closed, its number may be reused). */
  constructor(fd: number, isOpen: () => boolean) {
    this.fd = fd
    this.isOpen = isOpen
  }

  /** Bytes handed over that the terminal has not taken yet. */
  get unread(): number {
    return this.queue.reduce((sum, p) => sum + p.data.length, 0)
  }

  /** Queues `data`; `done` once the terminal took all of it, or with why it never will. */
  write(data: Buffer, done: (error?: string) => void): void {
    this.queue.push({ data, done })
    if (this.retry === undefined && this.queue.length === 1) this.drain()
  }

  /** The terminal is gone: what it did not take never will be. */
  close(reason: string): void {
    clearTimeout(this.retry)
    this.retry = undefined
    for (const pending of this.queue.splice(0)) pending.done(reason)
  }

  private drain(): void {
    this.retry = undefined
    for (let head = this.queue[0]; head !== undefined; head = this.queue[0]) {
      if (!this.isOpen()) return this.close("its terminal is closed")
      let written: number
      try {
        written = NodeFs.writeSync(this.fd, head.data)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === "EAGAIN" || code === "EWOULDBLOCK") {
          this.retry = setTimeout(() => this.drain(), RETRY_MS)
          return
        }
        return this.close((error as Error).message)
      }
      if (written < head.data.length) {
        head.data = head.data.subarray(written)
        continue
      }
      this.queue.shift()
      head.done()
    }
  }
}
