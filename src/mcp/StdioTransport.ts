/**
 * MCP over this process's stdin and stdout, one JSON-RPC message per line. Unlike the SDK's stdio
 * transport, every line that is not a valid message is answered, as JSON-RPC asks, and nothing a
 * client sends can stop the server: a line that is not JSON gets -32700 (parse error), one that is
 * JSON but no JSON-RPC message gets -32600 (invalid request), with the request's id when it has a
 * usable one, and a line too long to hold is answered and skipped. Messages sent before the event
 * loop moves on (the same callback and the promises it settles) leave in one write: a client that fires
 * 200 calls at once gets its answers in a few writes instead of 200 (stdout on a pipe is written
 * synchronously, one syscall per write). Not later: waiting for the loop's next phase cost a few per
 * cent of every small call.
 */
import { isObject, type Message, quote as short } from "./McpSession.ts"
import { ErrorCode } from "./protocolError.ts"

/** The longest line taken: far above any real request (send_input's own limit is 1 MiB). */
const MAX_LINE_BYTES = 16 * 1024 * 1024

const NEWLINE = 0x0a

export class StdioTransport {
  onmessage?: (message: Message) => void

  private pending: Array<Buffer> = []
  private pendingBytes = 0
  /** Skipping the rest of a line that was too long. */
  private skipping = false
  private corked = false

  private readonly stdin: NodeJS.ReadableStream
  private readonly stdout: NodeJS.WritableStream & { cork(): void; uncork(): void }

  constructor(stdin: NodeJS.ReadableStream = process.stdin, stdout = process.stdout) {
    this.stdin = stdin
    this.stdout = stdout
  }

  start(): void {
    this.stdin.on("data", this.onData)
  }

  close(): void {
    this.stdin.off("data", this.onData)
    this.pending = []
  }

  send(message: object): Promise<void> {
    if (!this.corked) {
      this.corked = true
      this.stdout.cork()
      process.nextTick(() => {
        this.corked = false
        this.stdout.uncork()
      })
    }
    return new Promise((resolve) => {
      if (this.stdout.write(`${JSON.stringify(message)}\n`)) resolve()
      else this.stdout.once("drain", resolve)
    })
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
    if (Array.isArray(json)) {
      return this.reply(
        null,
        ErrorCode.InvalidRequest,
        "Batches are not supported: send one JSON-RPC message per line."
      )
    }
    const problem = whatIsWrong(json)
    if (problem === undefined) return this.onmessage?.(json as Message)
    const id = usableId(json)
    // Params by position are valid JSON-RPC, but MCP names them: a request's params are wrong, and
    // a notification is never answered.
    if (
      isObject(json) && json.jsonrpc === "2.0" && typeof json.method === "string" && Array.isArray(json.params) &&
      (!("id" in json) || id !== null)
    ) {
      if (id === null) return
      return this.reply(
        id,
        ErrorCode.InvalidParams,
        `Invalid params for ${json.method}: params must be an object, got ${short(json.params)}.`
      )
    }
    this.reply(id, ErrorCode.InvalidRequest, `Invalid request: ${problem}.`)
  }

  private reply(id: string | number | null, code: number, message: string) {
    void this.send({ jsonrpc: "2.0", id, error: { code, message } })
  }
}

const usableId = (json: unknown): string | number | null => {
  if (!isObject(json)) return null
  const id = json.id
  return typeof id === "string" || (typeof id === "number" && Number.isSafeInteger(id)) ? id : null
}

/** One sentence on what makes a message invalid, the commonest mistakes first; nothing for a valid one. */
const whatIsWrong = (json: unknown): string | undefined => {
  if (!isObject(json)) return `a message is a JSON object, not ${json === null ? "null" : typeof json}`
  if (json.jsonrpc !== "2.0") {
    return `"jsonrpc" must be "2.0", got ${short(json.jsonrpc)}`
  }
  if ("method" in json && typeof json.method !== "string") {
    return `"method" must be a string, got ${short(json.method)}`
  }
  // An answer (taskmux asks nothing, so it is dropped): never answered, even with a null id.
  if (!("method" in json) && "id" in json && ("result" in json || "error" in json)) return undefined
  if ("id" in json && usableId(json) === null) {
    return `"id" must be a string or an integer, got ${short(json.id)}`
  }
  if ("params" in json && !isObject(json.params)) {
    return `"params" must be an object, got ${short(json.params)}`
  }
  if (typeof json.method === "string") return undefined
  return "it is neither a request, a notification nor a response"
}
