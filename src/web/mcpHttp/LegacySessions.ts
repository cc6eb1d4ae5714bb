/**
 * 2024-11-05 … 2025-11-25 over HTTP (McpHttp.ts says how it goes): the table of sessions by
 * `Mcp-Session-Id`, their opening by initialize, their idle end and their end (their own tasks with them).
 */
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/server"
import { Effect, Exit, Scope } from "effect"
import { randomUUID } from "node:crypto"
import { isObject } from "../../mcp/json.ts"
import { serveSession } from "../../mcp/McpServer.ts"
import { PROTOCOL_VERSIONS } from "../../mcp/revisions.ts"
import type { ToolEnv } from "../../mcp/Tool.ts"
import { endSessionTasks } from "../../project/endSessionTasks.ts"
import type { Notifier } from "../../supervisor/Notifier.ts"
import type { ViewerShape } from "../../supervisor/Viewer.ts"
import { armIdle } from "./armIdle.ts"
import { type Id, idOf, jsonRpcError } from "./jsonRpcError.ts"
import { sessionTransport } from "./sessionTransport.ts"
import { idleText, MAX_BODY } from "./settings.ts"

/** Live 2025-era sessions at once; past it, an initialize is refused in a sentence. */
export const MAX_SESSIONS = 64

/** Runs an effect of the supervisor's (the tools' environment) from a Node callback. */
export type RunEffect = <A, E>(effect: Effect.Effect<A, E, ToolEnv | Notifier>) => Promise<A>

/** A 2025-era session over HTTP. */
export interface LegacySession {
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

export interface LegacySessions {
  /** The live session of that id. */
  readonly get: (id: string) => LegacySession | undefined
  /** A 2025-era message: to its session, or an initialize that opens one (`initialize`), or refused. */
  readonly serve: (request: Request, body: unknown, initialize: boolean) => Promise<Response> | Response
  /** The session's last exchange closed: it ends after the idle time unless a request comes. */
  readonly idle: (session: LegacySession) => void
  /** Ends every session, their own tasks with them. */
  readonly endAll: () => Promise<void>
}

/**
 * `run`: the supervisor's effects from Node's callbacks; `scope`: the listener's, each session's scope a
 * child of it; `viewers`: a session began (+1) or ended (-1).
 */
export const makeLegacySessions = (
  { run, scope, viewers }: {
    readonly run: RunEffect
    readonly scope: Scope.Scope
    readonly viewers: (change: 1 | -1) => void
  }
): LegacySessions => {
  const sessions = new Map<string, LegacySession>()
  /** Sessions whose initialize is being answered: they count against the bound already. */
  let opening = 0

  const endSession = async (session: LegacySession) => {
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
      viewers(-1)
    }
    // As for a closed socket: the session's scope, then its own tasks (whole trees); their logs stay.
    // Never a rejection: some callers are timers, and one unhandled would end the supervisor.
    await run(
      Effect.andThen(Scope.close(session.scope, Exit.void), endSessionTasks(session.viewer.id)).pipe(
        Effect.catchCause((cause) => Effect.logError("Ending an MCP-over-HTTP session failed", cause))
      )
    )
  }

  const idle = (session: LegacySession) => armIdle(session, () => void endSession(session))

  const openSession = async (request: Request, body: unknown): Promise<Response> => {
    if (sessions.size + opening >= MAX_SESSIONS) {
      // Full: the quietest session with nothing open (no stream, no request: a client that went away
      // without a DELETE, likely) makes way, rather than every new client waiting out its idle time.
      let quietest: LegacySession | undefined
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
      const holder: { session?: LegacySession } = {}
      const web = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        enableJsonResponse: true,
        supportedProtocolVersions: [...PROTOCOL_VERSIONS],
        maxRequestBodySize: MAX_BODY,
        onsessioninitialized: (id) => {
          sessions.set(id, holder.session!)
          viewers(1)
        },
        // DELETE: answered once the session's own tasks are gone.
        onsessionclosed: () => endSession(holder.session!)
      })
      await web.start()
      const sessionScope = await run(Scope.fork(scope, "sequential"))
      const stream = { stalled: false }
      const own = sessionTransport(web, stream)
      const viewer = await run(serveSession(own).pipe(Scope.provide(sessionScope)))
      const session: LegacySession = {
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

  const serve = (request: Request, body: unknown, initialize: boolean): Promise<Response> | Response => {
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
    // What the classifier leaves to a session (it opens one only for an initialize alone): said as what it is,
    // not as a missing Mcp-Session-Id that asks for the initialize this batch holds.
    if (Array.isArray(body) && body.some((message) => isObject(message) && message.method === "initialize")) {
      return jsonRpcError(
        400,
        -32600,
        "Invalid Request: initialize is sent alone, not in a JSON-RPC batch (MCP 2025-03-26 forbids it; " +
          "2025-06-18 and later take no batches)."
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

  return {
    get: (id) => sessions.get(id),
    serve,
    idle,
    endAll: async () => {
      await Promise.all([...sessions.values()].map(endSession))
    }
  }
}
