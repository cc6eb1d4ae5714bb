/**
 * MCP over Streamable HTTP at `/mcp` on the supervisor's web listener, for clients that connect by URL:
 * the same sessions as over the socket (`serveSession`: the tools, resources, prompts and notifications),
 * every revision taskmux speaks. Loaded the first time someone asks for `/mcp`, never before; the
 * listener has already judged the request (Host, Origin, the token: guard.ts).
 *
 * HTTP is node:http's, the transports are the SDK's (`@modelcontextprotocol/server`): the body is read and
 * parsed once here, the request becomes a web-standard Request for the transports, and the SDK's own era
 * classifier (`classifyInboundRequest`, what its `createMcpHandler` routes by) says which era a request
 * is; this module only says which session serves it.
 *
 * - 2024-11-05 … 2025-11-25: a session per `Mcp-Session-Id`, opened by `initialize`, served by the SDK's
 *   `WebStandardStreamableHTTPServerTransport`: answers as JSON, notifications on the session's GET stream.
 *   It ends on DELETE, or after 10 minutes with no request and no open stream; then its own tasks end, as a
 *   closed socket's do. At most MAX_SESSIONS at once.
 * - 2026-07-28: no session. Each request is one exchange (`PerRequestHTTPServerTransport`: JSON, or SSE
 *   when notifications come first, as on a subscriptions/listen) of one long-lived session of the
 *   listener, which keeps protocol tasks between requests. Request ids and progress tokens are the
 *   client's own, and two clients may use the same: each exchange gets an id of its own inside, and
 *   answers and notifications go back with the client's. The end of the HTTP request cancels it (as the
 *   revision cancels over HTTP; a posted notifications/cancelled could name another client's request).
 *   No connection ends with such a client, so a task it starts is kept (`keep: true`) unless it says
 *   `keep: false` (then it is the listener's, and ends with the supervisor).
 */
import {
  type InboundModernRoute,
  type JSONRPCMessage,
  type JSONRPCRequest,
  PerRequestHTTPServerTransport,
  WebStandardStreamableHTTPServerTransport
} from "@modelcontextprotocol/server"
import { Effect, Exit, Scope } from "effect"
import { randomUUID } from "node:crypto"
import type * as http from "node:http"
import { isObject } from "../mcp/json.ts"
import { serveSession, type SessionTransport } from "../mcp/McpServer.ts"
import { PROTOCOL_VERSIONS, SUBSCRIPTION_ID_META } from "../mcp/revisions.ts"
import type { ToolEnv } from "../mcp/Tool.ts"
import { endSessionTasks } from "../project/endSessionTasks.ts"
import type { Notifier } from "../supervisor/Notifier.ts"
import { TaskRegistry } from "../supervisor/TaskRegistry.ts"
import type { ViewerShape } from "../supervisor/Viewer.ts"
import { dispatch } from "./mcpHttp/dispatch.ts"
import { inbound } from "./mcpHttp/inbound.ts"
import { type Id, idOf, jsonRpcError } from "./mcpHttp/jsonRpcError.ts"
import { lateAnswer } from "./mcpHttp/lateAnswer.ts"
import { modernRefusal } from "./mcpHttp/modernRefusal.ts"
import { readJson } from "./mcpHttp/readJson.ts"
import { idleMs, idleText, KEEP_ALIVE, keepAliveMs, MAX_BODY, NO_STORE } from "./mcpHttp/settings.ts"

/** Live 2025-era sessions at once; past it, an initialize is refused in a sentence. */
export const MAX_SESSIONS = 64
/** A timer this late says the process was stopped; the sessions' requests queued meanwhile get this long to arrive. */
const LATE_MS = 1000
const RESUMED_GRACE_MS = 2000
/** What a cancelled request's POST ends with: no MCP code says it; JSON-RPC leaves this one to servers (LSP's). */
const REQUEST_CANCELLED = -32800
/** How long a stream's client may take nothing (kernel buffers full) before it counts as not reading. */
const STALLED_AFTER_MS = 5000

export interface McpHttpOptions {
  /** Something is using the listener (+1) or stopped (-1): the supervisor stays while one does. */
  readonly viewers: (change: 1 | -1) => void
}

export interface McpHttp {
  /** Serves one request to /mcp, already judged by the listener. */
  readonly handle: (request: http.IncomingMessage, response: http.ServerResponse) => void
  /** Ends every 2026-07-28 exchange, saying so to a listen, once their streams have gone out (see farewell). */
  readonly farewell: () => Promise<void>
  /** Ends every session (their own tasks with them) and every exchange. */
  readonly close: () => Promise<void>
}

/** A 2025-era session over HTTP. */
interface Session {
  readonly web: WebStandardStreamableHTTPServerTransport
  readonly scope: Scope.Closeable
  readonly viewer: ViewerShape
  /** Cancels a request of the session, as its client's notifications/cancelled would. */
  readonly cancel: (id: Id) => void
  /** HTTP exchanges in progress (an open GET stream is one). */
  open: number
  /** Its stream's client is not taking what it is sent: news for it is dropped (see sessionTransport). */
  readonly stream: { stalled: boolean }
  timer: ReturnType<typeof setTimeout> | undefined
  /** When its last exchange closed. */
  quietSince: number
  ended: boolean
  /** Its requests whose POST waits for an answer: a session that ends answers them, or they would hang. */
  readonly pending: Set<Id>
}

/** One 2026-07-28 request in the listener's session, by the id it has there. */
interface Exchange {
  readonly transport: PerRequestHTTPServerTransport
  readonly method: string
  /** The client's own id and progress token. */
  readonly id: Id
  readonly progressToken: unknown
  answered: boolean
}

export const startMcpHttp = Effect.fnUntraced(function*(options: McpHttpOptions) {
  const context = yield* Effect.context<ToolEnv | Notifier>()
  const registry = yield* TaskRegistry
  const run = <A, E>(effect: Effect.Effect<A, E, ToolEnv | Notifier>) =>
    Effect.runPromise(Effect.provideContext(effect, context))
  const scope = yield* Scope.make("parallel")
  const sessions = new Map<string, Session>()
  /** Sessions whose initialize is being answered: they count against the bound already. */
  let opening = 0
  let closed = false

  // -- 2025-era sessions -----------------------------------------------------------------------------

  /**
   * The session's side of the SDK's transport. Answers are JSON (one write each, the quickest for the
   * client to take); notifications, progress included, go on the session's GET stream, which the SDK's
   * clients open after initialize.
   */
  const sessionTransport = (
    web: WebStandardStreamableHTTPServerTransport,
    stream: { readonly stalled: boolean }
  ): SessionTransport => {
    const transport: SessionTransport = {
      start: () => {},
      close: () => void web.close(),
      // A stream the client has closed is the client's loss: the transport says so, and it is dropped.
      // News for a client that does not read its stream would pile up in the SDK's queue: dropped.
      send: (message) =>
        stream.stalled && !("id" in message) ? undefined : web.send(message as JSONRPCMessage).catch(() => {})
    }
    web.onmessage = (message) => {
      transport.onmessage?.(message)
      // MCP answers no cancelled request, but the SDK's transport holds its POST open until every request
      // in it has an answer: one is sent, which the client ignores (MCP's rule for the canceller). A
      // request already answered has no POST left to take it.
      const { method, params } = message as { method?: unknown; params?: { requestId?: unknown } }
      const cancelled = params?.requestId
      if (method === "notifications/cancelled" && (typeof cancelled === "string" || typeof cancelled === "number")) {
        void web.send({
          jsonrpc: "2.0",
          id: cancelled,
          error: { code: REQUEST_CANCELLED, message: "Request cancelled by the client (notifications/cancelled)." }
        }).catch(() => {})
      }
    }
    return transport
  }

  const endSession = async (session: Session) => {
    if (session.ended) return
    session.ended = true
    clearTimeout(session.timer)
    // Its requests still open get an answer (the session is going, and with it the requests' handlers, which
    // answer nothing once cancelled): else each POST would hang until its client gives up.
    for (const requestId of session.pending) {
      void session.web.send({
        jsonrpc: "2.0",
        id: requestId,
        error: {
          code: -32000,
          message: "The MCP session ended (a DELETE, or its idle time) before this request was answered."
        }
      }).catch(() => {})
    }
    const id = session.web.sessionId
    if (id !== undefined && sessions.get(id) === session) {
      sessions.delete(id)
      options.viewers(-1)
    }
    // As for a closed socket: the session's scope, then its own tasks (whole trees); their logs stay.
    // Never a rejection: some callers are timers, and one unhandled would end the supervisor.
    await run(
      Effect.andThen(Scope.close(session.scope, Exit.void), endSessionTasks(session.viewer.id)).pipe(
        Effect.catchCause((cause) => Effect.logError("Ending an MCP-over-HTTP session failed", cause))
      )
    )
  }

  /**
   * With nothing open, the session ends after the idle time unless a request comes. One timer per quiet
   * spell, not one per request: when it fires early (a request came and went meanwhile) it waits the rest.
   */
  const idle = (session: Session) => {
    // The monotonic clock: a step of the wall clock ends no session that a request kept alive.
    session.quietSince = performance.now()
    if (session.timer !== undefined || session.ended) return
    const check = (wait: number) => {
      const due = performance.now() + wait
      session.timer = setTimeout(() => {
        session.timer = undefined
        if (session.open > 0) return // Its last exchange to close arms it again.
        // Far later than asked: this process was stopped (SIGSTOP, a debugger, a frozen cgroup). The requests
        // its clients sent meanwhile wait in its sockets, to be read after this timer: they come first.
        if (performance.now() - due > LATE_MS) return check(RESUMED_GRACE_MS)
        const left = session.quietSince + idleMs() - performance.now()
        if (left > 0) check(left)
        else void endSession(session)
      }, wait)
      session.timer.unref()
    }
    check(idleMs())
  }

  const openSession = async (request: Request, body: unknown): Promise<Response> => {
    if (sessions.size + opening >= MAX_SESSIONS) {
      // Full: the quietest session with nothing open (no stream, no request: a client that went away
      // without a DELETE, likely) makes way, rather than every new client waiting out its idle time.
      let quietest: Session | undefined
      for (const session of sessions.values()) {
        if (session.open === 0 && (quietest === undefined || session.quietSince < quietest.quietSince)) {
          quietest = session
        }
      }
      if (quietest !== undefined) await endSession(quietest)
    }
    if (sessions.size + opening >= MAX_SESSIONS) {
      return jsonRpcError(
        503,
        -32000,
        `taskmux serves at most ${MAX_SESSIONS} MCP sessions over HTTP at once, each with a stream or a ` +
          `request open: end one (DELETE /mcp with its Mcp-Session-Id), or close a client.`,
        idOf(body)
      )
    }
    opening++
    try {
      const holder: { session?: Session } = {}
      const web = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        enableJsonResponse: true,
        supportedProtocolVersions: [...PROTOCOL_VERSIONS],
        maxRequestBodySize: MAX_BODY,
        onsessioninitialized: (id) => {
          sessions.set(id, holder.session!)
          options.viewers(1)
        },
        // DELETE: answered once the session's own tasks are gone.
        onsessionclosed: () => endSession(holder.session!)
      })
      await web.start()
      const sessionScope = await run(Scope.fork(scope, "sequential"))
      const stream = { stalled: false }
      const own = sessionTransport(web, stream)
      const viewer = await run(serveSession(own).pipe(Scope.provide(sessionScope)))
      const session: Session = {
        web,
        scope: sessionScope,
        viewer,
        // Through the SDK transport's own hook (sessionTransport): the request gets its -32800 there, which
        // ends the SDK's record of its POST; cancelled only in taskmux's session, that record (and the
        // closed request, response and socket it holds) would stay until the session ends.
        cancel: (requestId) =>
          web.onmessage?.({
            jsonrpc: "2.0",
            method: "notifications/cancelled",
            params: { requestId, reason: "the HTTP request ended" }
          }),
        open: 0,
        stream,
        timer: undefined,
        quietSince: 0,
        ended: false,
        pending: new Set()
      }
      holder.session = session
      const response = await web.handleRequest(request, { parsedBody: body })
      // Refused before it began (a wrong Accept, say): nothing of it is kept.
      if (web.sessionId === undefined) await endSession(session)
      else idle(session)
      return response
    } finally {
      opening--
    }
  }

  const serveLegacy = (request: Request, body: unknown, initialize: boolean): Promise<Response> | Response => {
    const id = request.headers.get("mcp-session-id")
    const session = id === null ? undefined : sessions.get(id)
    if (session !== undefined) return session.web.handleRequest(request, { parsedBody: body })
    // A client whose session ended starts a new one with initialize (with or without its old id).
    if (initialize) return openSession(request, body)
    if (id !== null) {
      return jsonRpcError(
        404,
        -32001,
        `Session not found: no session ${JSON.stringify(id)} (one ends with a DELETE, after ${idleText()} ` +
          `without a request or an open stream, or, the quietest when ${MAX_SESSIONS} are open, to make room for ` +
          "a new one). Start a new one with initialize.",
        idOf(body)
      )
    }
    return jsonRpcError(
      400,
      -32000,
      "Bad Request: Mcp-Session-Id header is required: open a session with initialize (2024-11-05 to " +
        "2025-11-25), or send 2026-07-28 requests, which carry their revision in _meta.",
      idOf(body)
    )
  }

  // -- 2026-07-28: the listener's own session ----------------------------------------------------------

  const exchanges = new Map<string, Exchange>()
  let next = 0
  /** Each 2026-07-28 exchange's event stream's end, while it is open. */
  const modernStreams = new Set<Promise<void>>()

  /** What the listener's session sends, to the exchange it belongs to, with the client's own ids. */
  const route = (message: object) => {
    const m = message as { id?: unknown; method?: string; params?: Record<string, unknown> }
    if (m.method === undefined) {
      const exchange = typeof m.id === "string" ? exchanges.get(m.id) : undefined
      if (exchange === undefined) return // Cancelled: its request is gone.
      exchange.answered = true
      return exchange.transport.send({ ...message, id: exchange.id } as JSONRPCMessage).catch(() => {})
    }
    const params = m.params ?? {}
    const meta = isObject(params._meta) ? params._meta : undefined
    const listen = meta?.[SUBSCRIPTION_ID_META]
    let exchange: Exchange | undefined
    let sent: Record<string, unknown> | undefined
    if (typeof listen === "string" && (exchange = exchanges.get(listen)) !== undefined) {
      sent = { ...params, _meta: { ...meta, [SUBSCRIPTION_ID_META]: exchange.id } }
    } else if (
      m.method === "notifications/progress" && typeof params.progressToken === "string" &&
      (exchange = exchanges.get(params.progressToken)) !== undefined
    ) {
      sent = { ...params, progressToken: exchange.progressToken }
    }
    // Anything else belongs to no request (2026-07-28 sends nothing unasked): dropped.
    if (exchange === undefined || sent === undefined) return
    return exchange.transport.send({ ...message, params: sent } as JSONRPCMessage, { relatedRequestId: exchange.id })
      .catch(() => {})
  }
  const modern: SessionTransport = { start: () => {}, close: () => {}, send: route }
  /**
   * A 2026-07-28 client has no session to keep the supervisor between its requests (a model thinking
   * between two calls, nothing running): its last request keeps it a 2025 session's idle time.
   */
  let modernQuiet: ReturnType<typeof setTimeout> | undefined
  const heardFromModern = () => {
    if (modernQuiet === undefined) options.viewers(1)
    else clearTimeout(modernQuiet)
    modernQuiet = setTimeout(() => {
      modernQuiet = undefined
      options.viewers(-1)
    }, idleMs()).unref()
  }
  const listener = yield* serveSession(modern).pipe(Scope.provide(scope))

  const serveModern = async (routed: InboundModernRoute, request: Request): Promise<Response> => {
    // Cancellation is the end of the request's stream; nothing else a 2026-07-28 client tells is news.
    if (routed.messageKind === "notification") return new Response(null, { status: 202 })
    const message = routed.message
    const refused = modernRefusal(message, routed.classification.revision, request.headers)
    if (refused !== undefined) return refused
    const internal = `http-${++next}`
    const transport = new PerRequestHTTPServerTransport({ classification: routed.classification })
    const exchange: Exchange = {
      transport,
      method: message.method,
      id: message.id,
      progressToken: isObject(message.params?._meta) ? message.params._meta.progressToken : undefined,
      answered: false
    }
    exchanges.set(internal, exchange)
    options.viewers(1)
    heardFromModern()
    transport.onmessage = (received) => modern.onmessage?.(inbound(received as JSONRPCRequest, internal))
    transport.onclose = () => {
      if (exchanges.get(internal) !== exchange) return
      exchanges.delete(internal)
      heardFromModern()
      options.viewers(-1)
      if (!exchange.answered) {
        modern.onmessage?.({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: internal, reason: "the HTTP request ended" }
        })
      }
    }
    await transport.start()
    return transport.handleMessage(message, { request }).catch(() => new Response(null, { status: 499 }))
  }

  // -- HTTP ------------------------------------------------------------------------------------------

  /** The answer to a request, its body already read and parsed (undefined for a GET or DELETE). */
  const fetch = (request: http.IncomingMessage, body: unknown, signal: AbortSignal) =>
    dispatch(request, body, signal, { modern: serveModern, legacy: serveLegacy })

  /**
   * node:http to the transports' web-standard Request (`webRequest`) and back. A JSON answer
   * leaves in one write with its length (the SDK's toNodeHandler streams every body: a small answer in two
   * writes, each waking the client); a stream is passed on as it comes, as fast as the client takes it.
   */
  const serve = async (request: http.IncomingMessage, response: http.ServerResponse, session: Session | undefined) => {
    const abort = new AbortController()
    let finished = false
    response.once("close", () => {
      if (!finished) abort.abort()
    })
    let answer: Response
    const read = request.method === "POST" ? await readJson(request) : undefined
    if (read instanceof Response) answer = read
    else {
      const body = read?.json
      const id = idOf(body)
      let answering: Promise<Response | undefined>
      if (session !== undefined && id !== null && isObject(body) && typeof body.method === "string") {
        // A client gone before its answer (a JSON answer has nowhere else to go) cancels its request, as
        // its notifications/cancelled would: a wait ends then, not at its timeout with nobody to answer.
        const gone = new Promise<undefined>((resolve) =>
          abort.signal.addEventListener("abort", () => {
            session.cancel(id)
            resolve(undefined)
          }, { once: true })
        )
        session.pending.add(id)
        answering = Promise.race([fetch(request, body, abort.signal), gone]).finally(() => session.pending.delete(id))
      } else answering = Promise.resolve(fetch(request, body, abort.signal))
      const late = id !== null && String(request.headers.accept).includes("text/event-stream")
        ? lateAnswer(response, answering)
        : undefined
      const answered = await answering
      if (late !== undefined && await late.started) {
        finished = true
        return late.finish(answered)
      }
      if (answered === undefined) return
      answer = answered
    }
    const headers: Record<string, string> = { ...NO_STORE }
    for (const [name, value] of answer.headers) headers[name] = value
    if (answer.body === null || !headers["content-type"]?.startsWith("text/event-stream")) {
      const bytes = Buffer.from(await answer.arrayBuffer())
      finished = true
      response.writeHead(answer.status, { ...headers, "content-length": String(bytes.length) }).end(bytes)
      return
    }
    response.writeHead(answer.status, headers).flushHeaders()
    if (session === undefined) {
      // A 2026-07-28 exchange's stream, which farewell ends (a session's GET stream ends with the listener).
      const ended = new Promise<void>((resolve) => response.once("close", resolve))
      modernStreams.add(ended)
      void ended.then(() => modernStreams.delete(ended))
    }
    // A client that goes away ends the stream at once (its transport forgets it), not at its next event.
    const reader = answer.body.getReader()
    const stop = () => void reader.cancel().catch(() => {})
    abort.signal.addEventListener("abort", stop, { once: true })
    const gone = new Promise<void>((resolve) => abort.signal.addEventListener("abort", () => resolve(), { once: true }))
    // Between two events (the transport writes each whole): a quiet stream is not one a client drops.
    const keepAlive = setInterval(() => response.write(KEEP_ALIVE), keepAliveMs())
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done || abort.signal.aborted) break
        if (!response.write(value)) {
          // A client that takes nothing for a while is not reading: its session's news is dropped (it
          // would pile up in the SDK's queue) until it takes what waits.
          const stalled = session === undefined
            ? undefined
            : setTimeout(() => (session.stream.stalled = true), STALLED_AFTER_MS)
          await Promise.race([new Promise((resolve) => response.once("drain", resolve)), gone])
          clearTimeout(stalled)
          if (session !== undefined) session.stream.stalled = false
        }
      }
    } catch {
      // The stream failed (its transport closed): the client's stream ends here.
    } finally {
      clearInterval(keepAlive)
      abort.signal.removeEventListener("abort", stop)
    }
    finished = true
    response.end()
  }

  const handle = (request: http.IncomingMessage, response: http.ServerResponse) => {
    if (closed) {
      response.writeHead(503, NO_STORE).end()
      return
    }
    // Gone already (the listener's look at who connected is asynchronous: a client can hang up before the
    // request gets here): nobody to answer, and "close" has been and gone, so nothing would count the
    // exchange as over, and its session would stay busy, never idle, for ever.
    if (request.socket.destroyed) return
    // A session is busy while one of its exchanges is open (its GET stream included).
    const id = request.headers["mcp-session-id"]
    const session = typeof id === "string" ? sessions.get(id) : undefined
    if (session !== undefined) {
      session.open++
      response.once("close", () => {
        session.open--
        idle(session)
      })
    }
    serve(request, response, session).catch((error: unknown) => {
      if (!response.headersSent) {
        response.writeHead(500, { ...NO_STORE, "content-type": "application/json" })
        response.end(
          JSON.stringify({
            jsonrpc: "2.0",
            id: null,
            error: { code: -32603, message: `Internal error: ${String(error)}` }
          })
        )
      } else response.end()
    })
  }

  /**
   * Ends every 2026-07-28 exchange, a listen saying it is torn down, as that revision requires (its
   * client may listen again); then waits (a second at most) for their streams to reach their clients.
   */
  const sayFarewell = async () => {
    closed = true
    await Promise.all([...exchanges.values()].map(async (exchange) => {
      if (exchange.method === "subscriptions/listen" && !exchange.answered) {
        await exchange.transport.send({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: exchange.id, reason: "taskmux's supervisor is ending." }
        }, { relatedRequestId: exchange.id }).catch(() => {})
      }
      await exchange.transport.close().catch(() => {})
    }))
    await Promise.race([Promise.all(modernStreams), new Promise((resolve) => setTimeout(resolve, 1000).unref())])
  }
  /** Once, whether the listener's close or close() asks first. */
  let farewelled: Promise<void> | undefined
  const farewell = () => farewelled ??= sayFarewell()

  return {
    handle,
    farewell,
    close: async () => {
      if (modernQuiet !== undefined) {
        clearTimeout(modernQuiet)
        modernQuiet = undefined
        options.viewers(-1)
      }
      await farewell()
      await Promise.all([...sessions.values()].map(endSession))
      // Tasks a 2026-07-28 client started with keep: false were the listener's.
      await run(Effect.andThen(Scope.close(scope, Exit.void), registry.endSession(listener.id)))
    }
  } satisfies McpHttp
})
