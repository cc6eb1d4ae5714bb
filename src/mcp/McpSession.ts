/**
 * The MCP side of a connection: which JSON values are JSON-RPC messages, the initialize handshake,
 * ping, logging/setLevel, cancellation, and a handler per method, each answered exactly once as
 * JSON-RPC asks. Transports only frame and parse.
 *
 * taskmux speaks the protocol itself rather than through the SDK's `Server`: that builds a few
 * hundred zod schemas when it loads and parses every message with them, which was a fifth of a
 * cold start, 10 MB of an idle server and a third of a small call's time (issue 16, bench rows 3,
 * 6, 7). The server side of MCP is small: what the SDK's server did for taskmux is all here, and
 * the end-to-end tests drive it with the SDK's own `Client` and check it against the spec's schema.
 */
import packageJson from "../../package.json" with { type: "json" }
import { ErrorCode, invalidParams } from "./protocolError.ts"

/** The newest protocol revision first; a client asking for another gets the newest. */
export const PROTOCOL_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"]

export type RequestId = string | number

/** One JSON-RPC message, already checked for shape by the transport. */
export type Message =
  | { readonly jsonrpc: "2.0"; readonly id: RequestId; readonly method: string; readonly params?: Params }
  | { readonly jsonrpc: "2.0"; readonly method: string; readonly params?: Params }
  | { readonly jsonrpc: "2.0"; readonly id: RequestId | null; readonly result?: unknown; readonly error?: unknown }

export type Params = Readonly<Record<string, unknown>>

export interface RequestContext {
  /** Aborted when the client cancels the request (its answer is then never sent) or goes away. */
  readonly signal: AbortSignal
  /** The request's `_meta.progressToken`, when the client wants progress notifications. */
  readonly progressToken: string | number | undefined
}

/** Gets the request's params as sent: undefined when it had none. */
export type Handler = (params: Params | undefined, context: RequestContext) => unknown

const LOG_LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"] as const
export type LogLevel = typeof LOG_LEVELS[number]

export interface SessionOptions {
  readonly capabilities: Record<string, unknown>
  readonly instructions: string
}

export class McpSession {
  private readonly handlers = new Map<string, Handler>()
  private readonly inFlight = new Map<RequestId, AbortController>()
  /** Messages below this level are not sent (logging/setLevel); all are until the client says. */
  private logLevel = 0
  /** The client's name, from its initialize. */
  clientName: string | undefined

  private readonly send: (message: object) => void

  constructor(send: (message: object) => void, options: SessionOptions) {
    this.send = send
    this.handle("initialize", (params) => {
      const asked = params?.protocolVersion
      if (typeof asked !== "string") {
        throw invalidParams(
          `Invalid params for initialize: params.protocolVersion must be a protocol revision such as "${
            PROTOCOL_VERSIONS[0]
          }", got ${quote(asked)}.`
        )
      }
      const clientInfo = params?.clientInfo
      if (isObject(clientInfo) && typeof clientInfo.name === "string") this.clientName = clientInfo.name.slice(0, 100)
      return {
        protocolVersion: PROTOCOL_VERSIONS.includes(asked) ? asked : PROTOCOL_VERSIONS[0],
        capabilities: options.capabilities,
        serverInfo: { name: "taskmux", title: "taskmux", version: packageJson.version },
        instructions: options.instructions
      }
    })
    this.handle("ping", () => ({}))
    this.handle("logging/setLevel", (params) => {
      const level = LOG_LEVELS.indexOf(params?.level as LogLevel)
      if (level === -1) {
        throw invalidParams(
          `Invalid params for logging/setLevel: params.level must be one of ${LOG_LEVELS.join(", ")}, got ${
            quote(params?.level)
          }.`
        )
      }
      this.logLevel = level
      return {}
    })
  }

  /** Answers `method` with what `handler` returns (or throws: an error with a numeric `code` keeps it). */
  handle(method: string, handler: Handler): void {
    this.handlers.set(method, handler)
  }

  /**
   * Takes one JSON value from a transport. One that is no JSON-RPC message gets -32600 (invalid
   * request), with the request's id when it has a usable one; a batch is refused in a sentence.
   */
  receive(json: unknown): void {
    if (Array.isArray(json)) {
      return this.reject(
        null,
        ErrorCode.InvalidRequest,
        "Batches are not supported: send one JSON-RPC message per line."
      )
    }
    const problem = whatIsWrong(json)
    if (problem === undefined) return this.dispatch(json as Message)
    const id = usableId(json)
    // Params by position are valid JSON-RPC, but MCP names them: a request's params are wrong, and
    // a notification is never answered.
    if (
      isObject(json) && json.jsonrpc === "2.0" && typeof json.method === "string" && Array.isArray(json.params) &&
      (!("id" in json) || id !== null)
    ) {
      if (id === null) return
      return this.reject(
        id,
        ErrorCode.InvalidParams,
        `Invalid params for ${json.method}: params must be an object, got ${quote(json.params)}.`
      )
    }
    this.reject(id, ErrorCode.InvalidRequest, `Invalid request: ${problem}.`)
  }

  private dispatch(message: Message): void {
    if (!("method" in message)) return // An answer to a request: taskmux sends none.
    if (!("id" in message)) return this.notified(message.method, message.params ?? {})
    void this.answer(message.id, message.method, message.params)
  }

  private reject(id: RequestId | null, code: number, message: string) {
    this.send({ jsonrpc: "2.0", id, error: { code, message } })
  }

  notify(method: string, params: object): void {
    this.send({ jsonrpc: "2.0", method, params })
  }

  log(level: LogLevel, data: unknown): void {
    if (LOG_LEVELS.indexOf(level) < this.logLevel) return
    this.notify("notifications/message", { level, logger: "taskmux", data })
  }

  /** The client went away: every request still running is cancelled. */
  close(): void {
    for (const controller of this.inFlight.values()) controller.abort("connection closed")
    this.inFlight.clear()
  }

  private notified(method: string, params: Params) {
    if (method === "notifications/cancelled") {
      const id = params.requestId
      if (typeof id === "string" || typeof id === "number") this.inFlight.get(id)?.abort(params.reason)
    }
    // notifications/initialized, roots/list_changed and the like ask nothing of taskmux.
  }

  private async answer(id: RequestId, method: string, params: Params | undefined) {
    const handler = this.handlers.get(method)
    if (handler === undefined) {
      return this.send({
        jsonrpc: "2.0",
        id,
        error: {
          code: ErrorCode.MethodNotFound,
          message: `Method not found: ${JSON.stringify(method)}. taskmux answers ${
            [...this.handlers.keys()].join(", ")
          }.`
        }
      })
    }
    const controller = new AbortController()
    // A client that reuses an id in flight cancels only the newer request.
    this.inFlight.set(id, controller)
    const meta = params?._meta
    const token = isObject(meta) ? meta.progressToken : undefined
    const context: RequestContext = {
      signal: controller.signal,
      progressToken: typeof token === "string" || typeof token === "number" ? token : undefined
    }
    let reply: object
    try {
      reply = { jsonrpc: "2.0", id, result: await handler(params, context) }
    } catch (error) {
      const code = (error as { code?: unknown }).code
      reply = {
        jsonrpc: "2.0",
        id,
        error: Number.isInteger(code) ?
          { code, message: (error as Error).message } :
          { code: ErrorCode.InternalError, message: `Internal error in ${method}: ${messageOf(error)}` }
      }
    }
    if (this.inFlight.get(id) === controller) this.inFlight.delete(id)
    // A cancelled request is not answered (the client has forgotten the id).
    if (!controller.signal.aborted) this.send(reply)
  }
}

/** A required string field of a request's params, or -32602 naming it and an example. */
export const stringParam = (method: string, params: Params | undefined, field: string, example: string): string => {
  const value = params?.[field]
  if (typeof value === "string") return value
  throw invalidParams(
    `Invalid params for ${method}: params.${field}: expected a string such as ${JSON.stringify(example)}, got ${
      quote(value)
    }.`
  )
}

/** A JSON object: what params, arguments and `_meta` must be. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** A value, as an error message quotes it: JSON, cut short. */
export const quote = (value: unknown): string => {
  if (value === undefined) return "nothing"
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 59)}…` : text
}

const messageOf = (error: unknown) => error instanceof Error ? error.message : String(error)

const usableId = (json: unknown): string | number | null => {
  if (!isObject(json)) return null
  const id = json.id
  return typeof id === "string" || (typeof id === "number" && Number.isSafeInteger(id)) ? id : null
}

/** One sentence on what makes a message invalid, the commonest mistakes first; nothing for a valid one. */
const whatIsWrong = (json: unknown): string | undefined => {
  if (!isObject(json)) return `a message is a JSON object, not ${json === null ? "null" : typeof json}`
  if (json.jsonrpc !== "2.0") {
    return `"jsonrpc" must be "2.0", got ${quote(json.jsonrpc)}`
  }
  if ("method" in json && typeof json.method !== "string") {
    return `"method" must be a string, got ${quote(json.method)}`
  }
  // An answer (taskmux asks nothing, so it is dropped): never answered, even with a null id.
  if (!("method" in json) && "id" in json && ("result" in json || "error" in json)) return undefined
  if ("id" in json && usableId(json) === null) {
    return `"id" must be a string or an integer, got ${quote(json.id)}`
  }
  if ("params" in json && !isObject(json.params)) {
    return `"params" must be an object, got ${quote(json.params)}`
  }
  if (typeof json.method === "string") return undefined
  return "it is neither a request, a notification nor a response"
}
