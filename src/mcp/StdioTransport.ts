/**
 * MCP over this process's stdin and stdout, one JSON-RPC message per line. Unlike the SDK's stdio
 * transport, every line that cannot be read is answered, as JSON-RPC asks, and nothing a client
 * sends can stop the server: a line that is not JSON gets -32700 (parse error), and a line too long
 * to hold is answered and skipped. What a JSON value must be to be a message, the session checks
 * (McpSession.receive), for any transport. Messages sent before the event
 * loop moves on (the same callback and the promises it settles) leave in one write: a client that fires
 * 200 calls at once gets its answers in a few writes instead of 200 (stdout on a pipe is written
 * synchronously, one syscall per write). Not later: waiting for the loop's next phase cost a few per
 * cent of every small call.
 */
import { ErrorCode } from "./protocolError.ts"

/** The longest line taken: far above any real request (send_input's own limit is 1 MiB). */
const MAX_LINE_BYTES = 16 * 1024 * 1024

/**
 * For a session that shares a supervisor: answers waiting to be written past which no more of its
 * requests are read until they drain, so that a client that sends but does not read stalls only itself,
 * not the memory every other session shares; and past which its news (notifications) is dropped, a
 * client that reads never being that far behind. A server alone keeps reading: its memory is its one
 * client's, and a script that writes all its requests before it reads would wait forever.
 */
const PAUSE_BYTES = 8 * 1024 * 1024
const DROP_NEWS_BYTES = 32 * 1024 * 1024

const NEWLINE = 0x0a

/**
 * How long a session whose client closed its input goes on answering the calls it sent before (a start
 * looks 100 ms for an early end): then the rest are dropped, and the session ends.
 */
export const DRAIN_MS = 500

export class StdioTransport {
  /** Each line's JSON value, whatever it is. */
  onmessage?: (json: unknown) => void

  private pending: Array<Buffer> = []
  private pendingBytes = 0
  /** Skipping the rest of a line that was too long. */
  private skipping = false
  private corked = false
  /** Not reading requests: the answers are backed up (a shared session only). */
  private throttled = false
  private closed = false

  private readonly stdin: NodeJS.ReadableStream
  private readonly stdout: NodeJS.WritableStream & { cork(): void; uncork(): void }
  private readonly shared: boolean

  constructor(
    stdin: NodeJS.ReadableStream = process.stdin,
    stdout: NodeJS.WritableStream & { cork(): void; uncork(): void } = process.stdout,
    /** A supervisor's session: see PAUSE_BYTES. */
    shared = false
  ) {
    this.stdin = stdin
    this.stdout = stdout
    this.shared = shared
  }

  start(): void {
    this.stdin.on("data", this.onData)
  }

  close(): void {
    this.closed = true
    this.stdin.off("data", this.onData)
    this.pending = []
  }

  send(message: object): Promise<void> {
    // Answers to requests a client sent before it went: nobody reads them. And news (a notification)
    // for a shared session's client that has not read in 32 MiB: it reads its answers first when it reads again.
    if (this.closed || this.shared && !("id" in message) && this.backlog() >= DROP_NEWS_BYTES) {
      return Promise.resolve()
    }
    if (!this.corked) {
      this.corked = true
      this.stdout.cork()
      process.nextTick(() => {
        this.corked = false
        this.stdout.uncork()
      })
    }
    if (this.stdout.write(`${JSON.stringify(message)}\n`)) return Promise.resolve()
    // A shared session's requests are not read while more than PAUSE_BYTES of answers wait.
    if (this.shared && !this.throttled && this.backlog() >= PAUSE_BYTES) {
      this.throttled = true
      this.stdin.pause()
    }
    // One wait for the drain, however many messages are behind it (not one listener each).
    return this.drained ??= new Promise((resolve) =>
      this.stdout.once("drain", () => {
        this.drained = undefined
        if (this.throttled) {
          this.throttled = false
          if (!this.closed) this.stdin.resume()
        }
        resolve()
      })
    )
  }

  private drained: Promise<void> | undefined

  private backlog(): number {
    return (this.stdout as { writableLength?: number }).writableLength ?? 0
  }

  private readonly onData = (chunk: Buffer | string) => {
    let data = typeof chunk === "string" ? Buffer.from(chunk) : chunk
    for (;;) {
      const end = data.indexOf(NEWLINE)
      if (end === -1) {
        this.hold(data)
        return
      }
      this.hold(data.subarray(0, end))
      data = data.subarray(end + 1)
      const line = Buffer.concat(this.pending)
      const skipped = this.skipping
      this.pending = []
      this.pendingBytes = 0
      this.skipping = false
      if (skipped) this.reply(null, ErrorCode.InvalidRequest, `Message over ${MAX_LINE_BYTES} bytes: not read.`)
      else this.receive(line)
    }
  }

  private hold(part: Buffer) {
    if (this.skipping || part.length === 0) return
    if (this.pendingBytes + part.length > MAX_LINE_BYTES) {
      this.pending = []
      this.pendingBytes = 0
      this.skipping = true
      return
    }
    // A copy: the stream may reuse its chunk's memory.
    this.pending.push(Buffer.from(part))
    this.pendingBytes += part.length
  }

  private receive(line: Buffer) {
    // Bytes that are not UTF-8 become U+FFFD: a string with them is still a string.
    const text = line.toString("utf8").replace(/\r$/, "")
    if (text.trim() === "") return
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      return this.reply(null, ErrorCode.ParseError, `Parse error: the line is not JSON (${(error as Error).message}).`)
    }
    this.onmessage?.(json)
  }

  private reply(id: string | number | null, code: number, message: string) {
    void this.send({ jsonrpc: "2.0", id, error: { code, message } })
  }
}
