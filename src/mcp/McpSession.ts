/**
 * The MCP side of a connection: which JSON values are JSON-RPC messages, the protocol revision of
 * each request, the initialize handshake, ping, logging/setLevel, cancellation, and a handler per
 * method, each answered exactly once as JSON-RPC asks. Transports only frame and parse.
 *
 * Two eras on one connection type: a 2024-11-05 to 2025-11-25 client opens a session with
 * `initialize`; a 2026-07-28 client sends no handshake, and each of its requests carries its revision
 * and capabilities in `_meta` (see revisions.ts). The session answers each request as its own era's
 * spec says: a 2026-07-28 answer carries `resultType` and the server's info, and methods that
 * revision removed are refused in a sentence that names what replaced them.
 *
 * taskmux speaks the protocol itself rather than through the SDK's `Server`: that builds a few
 * hundred zod schemas when it loads and parses every message with them, which was a fifth of a
 * cold start, 10 MB of an idle server and a third of a small call's time (issue 16, bench rows 3,
 * 6, 7). The server side of MCP is small: what the SDK's server did for taskmux is all here, and
 * the end-to-end tests drive it with the SDK's own `Client` and check it against the spec's schema.
 */
import { headOf } from "../domain/clipText.ts"
import { internalErrorMessage } from "./internalError.ts"
import { isObject, quoteValue } from "./json.ts"
import { ErrorCode, invalidParams, ProtocolError } from "./protocolError.ts"
import {
  CACHEABLE,
  LEGACY_VERSIONS,
  LOG_LEVELS,
  type LogLevel,
  MODERN_ONLY,
  MODERN_VERSION,
  modernEnvelope,
  type ModernRequest,
  PROTOCOL_VERSION_META,
  PROTOCOL_VERSIONS,
  REMOVED_IN_MODERN,
  SERVER_INFO,
  SERVER_INFO_META,
  TASKS_REVISION
} from "./revisions.ts"

/** The one revision with JSON-RPC batches (2025-06-18 took them out again). */
const BATCH_REVISION = "2025-03-26"

export { isObject, quoteValue } from "./json.ts"
export { LOG_LEVELS, type LogLevel, PROTOCOL_VERSIONS } from "./revisions.ts"

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
  /** The signal's controller, for a call that cancels itself with the request. */
  readonly controller: AbortController
  /** The request's `_meta.progressToken`, when the client wants progress notifications. */
  readonly progressToken: string | number | undefined
  /** A 2026-07-28 request's envelope (its capabilities, client, log level); undefined for earlier eras. */
  readonly modern: ModernRequest | undefined
  /** The request's id, as the client sent it. */
  readonly id: RequestId
  /** The revision it is answered in: 2026-07-28, or its session's. */
  readonly revision: string
  /** The client's capabilities: the request's own (2026-07-28), or its session's initialize. */
  readonly capabilities: Readonly<Record<string, unknown>>
}

/** Gets the request's params as sent: undefined when it had none. */
export type Handler = (params: Params | undefined, context: RequestContext) => unknown

export interface SessionOptions {
  /** In the initialize answer. */
  readonly capabilities: Record<string, unknown>
  /** In the server/discover answer (2026-07-28); the same as `capabilities` when absent. */
  readonly modernCapabilities?: Record<string, unknown>
  readonly instructions: string
}

/** The lists taskmux gives whole: no cursor of theirs exists (tasks/list pages, and checks its own). */
const ONE_PAGE: ReadonlySet<string> = new Set([
  "tools/list",
  "prompts/list",
  "resources/list",
  "resources/templates/list"
])

export class McpSession {
  private readonly handlers = new Map<string, Handler>()
  private readonly inFlight = new Map<RequestId, AbortController>()
  /** Messages below this level are not sent (logging/setLevel); all are until the client says. */
  private logLevel = 0
  /** The client's name, from its initialize. */
  clientName: string | undefined
  /**
   * A 2026-07-28 client: it sent a request with that revision's envelope and no initialize. Such a
   * client gets nothing it did not ask for: no log messages and no list changes outside its
   * `subscriptions/listen` (the revision forbids unsolicited notifications).
   */
  modernClient = false
  private initialized = false
  /** What the client said it can do in its initialize. */
  private clientCapabilities: Readonly<Record<string, unknown>> = {}
  /** The revision its initialize agreed on (the newest, for a client that skipped it). */
  revision: string = LEGACY_VERSIONS[0]!

  private readonly send: (message: object) => void

  constructor(send: (message: object) => void, options: SessionOptions) {
    this.send = send
    this.handle("initialize", (params) => {
      const asked = params?.protocolVersion
      if (typeof asked !== "string") {
        throw invalidParams(
          `Invalid params for initialize: params.protocolVersion must be a protocol revision such as "${
            LEGACY_VERSIONS[0]
          }", got ${quoteValue(asked)}.`
        )
      }
      const clientInfo = params?.clientInfo
      if (isObject(clientInfo) && typeof clientInfo.name === "string") this.clientName = headOf(clientInfo.name, 100)
      this.clientCapabilities = isObject(params?.capabilities) ? params.capabilities : {}
      this.initialized = true
      this.modernClient = false
      // 2026-07-28 has no handshake: a client that asks for it here gets the newest that has one.
      this.revision = LEGACY_VERSIONS.includes(asked) ? asked : LEGACY_VERSIONS[0]!
      // The tasks utility came with 2025-11-25: an older session is not offered it.
      const { tasks, ...older } = options.capabilities
      return {
        protocolVersion: this.revision,
        capabilities: this.revision === TASKS_REVISION ? { ...older, tasks } : older,
        serverInfo: SERVER_INFO,
        instructions: options.instructions
      }
    })
    // 2026-07-28's way to learn the server, asked before anything else (the answer is the same for all).
    this.handle("server/discover", () => ({
      supportedVersions: PROTOCOL_VERSIONS,
      capabilities: options.modernCapabilities ?? options.capabilities,
      instructions: options.instructions
    }))
    this.handle("ping", () => ({}))
    this.handle("logging/setLevel", (params) => {
      const level = LOG_LEVELS.indexOf(params?.level as LogLevel)
      if (level === -1) {
        throw invalidParams(
          `Invalid params for logging/setLevel: params.level must be one of ${LOG_LEVELS.join(", ")}, got ${
            quoteValue(params?.level)
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
   * request), with the request's id when it has a usable one; a notification is never answered. A batch
   * is taken in a 2025-03-26 session, the one revision that has them, and refused in a sentence in others.
   */
  receive(json: unknown): void {
    if (Array.isArray(json)) return this.batch(json)
    this.one(json, this.send)
  }

  /** One message, its answer (if any) given to `reply`; `done` (a batch's) once it has one or never will. */
  private one(json: unknown, reply: (message: object) => void, done?: () => void): void {
    const problem = whatIsWrong(json)
    if (problem === undefined) return this.dispatch(json as Message, reply, done)
    // A notification (JSON-RPC 2.0's, a method and no id) is never answered, however wrong its params: MCP's rule.
    if (isObject(json) && json.jsonrpc === "2.0" && typeof json.method === "string" && !("id" in json)) return done?.()
    // The answer first, then done: the batch sends what it holds when its last member is done.
    const answered = (message: object) => {
      reply(message)
      done?.()
    }
    const id = usableId(json)
    // Params by position are valid JSON-RPC, but MCP names them: a request's params are wrong.
    if (
      isObject(json) && json.jsonrpc === "2.0" && typeof json.method === "string" && Array.isArray(json.params) &&
      id !== null
    ) {
      return answered(this.error(
        id,
        ErrorCode.InvalidParams,
        `Invalid params for ${json.method}: params must be an object, got ${quoteValue(json.params)}.`
      ))
    }
    answered(this.error(id, ErrorCode.InvalidRequest, `Invalid request: ${problem}.`))
  }

  /**
   * A JSON-RPC batch: each message taken as it would be alone, the answers to its requests sent together
   * in one array once all are in (none for a batch of notifications; a cancelled request has none).
   */
  private batch(messages: ReadonlyArray<unknown>): void {
    if (this.revision !== BATCH_REVISION || this.modernClient) {
      return this.send(this.error(
        null,
        ErrorCode.InvalidRequest,
        `Batches are MCP ${BATCH_REVISION}'s only: this session speaks ${
          this.modernClient ? MODERN_VERSION : this.revision
        }, so send one JSON-RPC message per line.`
      ))
    }
    if (messages.length === 0) {
      return this.send(this.error(null, ErrorCode.InvalidRequest, "Invalid request: an empty batch."))
    }
    const answers: Array<object> = []
    let waiting = messages.length
    const done = () => {
      if (--waiting === 0 && answers.length > 0) this.send(answers)
    }
    for (const message of messages) {
      if (isObject(message) && message.method === "initialize" && "id" in message) {
        answers.push(
          this.error(
            usableId(message),
            ErrorCode.InvalidRequest,
            "Invalid request: initialize is never part of a batch."
          )
        )
        done()
        continue
      }
      this.one(message, (reply) => answers.push(reply), done)
    }
  }

  /** An error answer: `null` for a request whose id could not be read, as JSON-RPC asks. */
  private error(id: RequestId | null, code: number, message: string): object {
    return { jsonrpc: "2.0", id, error: { code, message } }
  }

  private dispatch(message: Message, reply: (message: object) => void, done?: () => void): void {
    if (!("method" in message)) return done?.() // An answer to a request: taskmux sends none.
    if (!("id" in message)) {
      this.notified(message.method, message.params ?? {})
      return done?.()
    }
    const answered = this.answer(message.id, message.method, message.params, reply)
    if (done !== undefined) void answered.finally(done)
  }

  notify(method: string, params: object): void {
    this.send({ jsonrpc: "2.0", method, params })
  }

  /**
   * Whether news may be sent unasked: after the client's initialize (a client that has not spoken yet, or
   * a 2026-07-28 one, gets none).
   */
  get greeted(): boolean {
    return this.initialized && !this.modernClient
  }

  /** A log message for a client of a session era (2026-07-28 clients get none they did not ask for). */
  log(level: LogLevel, data: unknown): void {
    if (!this.greeted || LOG_LEVELS.indexOf(level) < this.logLevel) return
    this.notify("notifications/message", { level, logger: "taskmux", data })
  }

  /**
   * Once every request in flight has its answer, or `ms` has passed: a client that closed its input after
   * its last request (a script's `printf … | taskmux`) still reads the answers on their way.
   */
  settled(ms: number): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.idle.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.idle.add(done)
    })
  }

  private readonly idle = new Set<() => void>()

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

  private async answer(id: RequestId, method: string, params: Params | undefined, reply: (message: object) => void) {
    let modern: ModernRequest | undefined
    try {
      modern = modernEnvelope(params)
    } catch (error) {
      return reply({ jsonrpc: "2.0", id, error: errorOf(method, error) })
    }
    if (modern !== undefined && !this.initialized) {
      this.modernClient = true
      if (modern.clientName !== undefined) this.clientName ??= modern.clientName
    }
    const handler = this.handlers.get(method)
    const refusal = handler === undefined
      ? `Method not found: ${JSON.stringify(method)}. taskmux answers ${
        [...this.handlers.keys()].filter((m) => modern === undefined ? !MODERN_ONLY.has(m) : !REMOVED_IN_MODERN.has(m))
          .join(", ")
      }.`
      : modern !== undefined && REMOVED_IN_MODERN.has(method)
      ? `Method not found: ${method} is not part of MCP 2026-07-28: ${REMOVED_IN_MODERN.get(method)}`
      : modern === undefined && MODERN_ONLY.has(method)
      ? `Method not found: ${method} is MCP 2026-07-28's: send it with _meta["${PROTOCOL_VERSION_META}"]: ` +
        `"${MODERN_VERSION}" and the client's capabilities (a session subscribes with resources/subscribe).`
      : undefined
    if (handler === undefined || refusal !== undefined) {
      return reply({ jsonrpc: "2.0", id, error: { code: ErrorCode.MethodNotFound, message: refusal } })
    }
    // taskmux's lists come in one page: a cursor it never gave is an error, as MCP's pagination asks.
    if (ONE_PAGE.has(method) && params?.cursor !== undefined) {
      return reply({
        jsonrpc: "2.0",
        id,
        error: errorOf(
          method,
          invalidParams(
            `Invalid params for ${method}: cursor ${quoteValue(params.cursor)} was never given: this list ` +
              "comes in one page, with no nextCursor."
          ),
          modern !== undefined
        )
      })
    }
    const controller = new AbortController()
    // A client that reuses an id in flight cancels only the newer request.
    this.inFlight.set(id, controller)
    const meta = params?._meta
    const token = isObject(meta) ? meta.progressToken : undefined
    const context: RequestContext = {
      signal: controller.signal,
      controller,
      progressToken: typeof token === "string" || typeof token === "number" ? token : undefined,
      modern,
      revision: modern === undefined ? this.revision : MODERN_VERSION,
      capabilities: modern === undefined ? this.clientCapabilities : modern.capabilities,
      id
    }
    let answer: object
    try {
      // A handler that answers at once is answered at once: initialize's answer goes out before anything a
      // later line of the same read sets off (a start's list_changed), as a client expects.
      const pending = handler(params, context)
      const result = pending instanceof Promise ? await pending : pending
      answer = { jsonrpc: "2.0", id, result: modern === undefined ? result : asModern(method, result) }
    } catch (error) {
      // Never at once: an error sent while a transport still hands the request over is that transport's own
      // refusal to it (the SDK's HTTP transport makes a -32601 a 404), not the handler's answer.
      await undefined
      answer = { jsonrpc: "2.0", id, error: errorOf(method, error, modern !== undefined) }
    }
    if (this.inFlight.get(id) === controller) this.inFlight.delete(id)
    // A cancelled request is not answered (the client has forgotten the id).
    if (!controller.signal.aborted) reply(answer)
    if (this.inFlight.size === 0 && this.idle.size > 0) { for (const done of [...this.idle]) done() }
  }
}

/** A 2026-07-28 answer: it says what kind of result it is, who answered, and how long it may be kept. */
const asModern = (method: string, result: unknown) => {
  const fields = result as Record<string, unknown>
  return {
    resultType: "complete",
    ...(CACHEABLE.has(method) && { ttlMs: 0, cacheScope: "private" }),
    ...fields,
    _meta: { ...(isObject(fields._meta) ? fields._meta : {}), [SERVER_INFO_META]: SERVER_INFO }
  }
}

/** A thrown error as a JSON-RPC error: a ProtocolError keeps its code and `data`; else an internal error. */
const errorOf = (method: string, error: unknown, modern = false) => {
  if (!(error instanceof ProtocolError)) {
    return { code: ErrorCode.InternalError, message: internalErrorMessage(method, error) }
  }
  const { code, data, message } = error
  // 2026-07-28 has no code of its own for a missing resource: it is a param that names nothing.
  const asked = modern && code === ErrorCode.ResourceNotFound ? ErrorCode.InvalidParams : code
  return { code: asked, message, ...(data !== undefined && { data }) }
}

/** A required string field of a request's params, or -32602 naming it and an example. */
export const stringParam = (method: string, params: Params | undefined, field: string, example: string): string => {
  const value = params?.[field]
  if (typeof value === "string") return value
  throw invalidParams(
    `Invalid params for ${method}: params.${field}: expected a string such as ${JSON.stringify(example)}, got ${
      quoteValue(value)
    }.`
  )
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
    return `"jsonrpc" must be "2.0", got ${quoteValue(json.jsonrpc)}`
  }
  if ("method" in json && typeof json.method !== "string") {
    return `"method" must be a string, got ${quoteValue(json.method)}`
  }
  // An answer (taskmux asks nothing, so it is dropped): never answered, even with a null id.
  if (!("method" in json) && "id" in json && ("result" in json || "error" in json)) return undefined
  if ("id" in json && usableId(json) === null) {
    // JSON's number as read is not the one sent: not echoed as if it were.
    return Number.isInteger(json.id) && !Number.isSafeInteger(json.id)
      ? `"id" is an integer beyond 2^53, which cannot be answered exactly: send it as a string`
      : `"id" must be a string or an integer, got ${quoteValue(json.id)}`
  }
  if ("params" in json && !isObject(json.params)) {
    return `"params" must be an object, got ${quoteValue(json.params)}`
  }
  if (typeof json.method === "string") return undefined
  return "it is neither a request, a notification nor a response"
}
