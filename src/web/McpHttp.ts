/**
 * MCP over Streamable HTTP at `/mcp` on the supervisor's web listener, for clients that connect by URL:
 * the same sessions as over the socket (`serveSession`: the tools, resources, prompts and notifications),
 * every revision taskmux speaks. Loaded the first time someone asks for `/mcp`, never before; the
 * listener has already judged the request (Host, Origin, the token: guard.ts).
 *
 * HTTP is node:http's, the transports are the SDK's (`@modelcontextprotocol/server`): the body is read and
 * parsed once (readJson.ts), the request becomes a web-standard Request for the transports, and the SDK's own era
 * classifier (`classifyInboundRequest`, what its `createMcpHandler` routes by) says which era a request
 * is; this module only says which session serves it. Its parts, in mcpHttp/:
 *
 * - 2024-11-05 … 2025-11-25: a session per `Mcp-Session-Id`, opened by `initialize`, served by the SDK's
 *   `WebStandardStreamableHTTPServerTransport`: answers as JSON, notifications on the session's GET stream.
 *   It ends on DELETE, or after 10 minutes with no request and no open stream; then its own tasks end, as a
 *   closed socket's do. At most MAX_SESSIONS at once. In LegacySessions.ts.
 * - 2026-07-28: no session. Each request is one exchange (`PerRequestHTTPServerTransport`: JSON, or SSE
 *   when notifications come first, as on a subscriptions/listen) of one long-lived session of the
 *   listener, which keeps protocol tasks between requests. Request ids and progress tokens are the
 *   client's own, and two clients may use the same: each exchange gets an id of its own inside, and
 *   answers and notifications go back with the client's. The end of the HTTP request cancels it (as the
 *   revision cancels over HTTP; a posted notifications/cancelled could name another client's request).
 *   No connection ends with such a client, so a task it starts is kept (`keep: true`) unless it says
 *   `keep: false` (then it is the listener's, and ends with the supervisor). In ModernExchanges.ts.
 * - node:http and back: serveHttp.ts (the body, late answers, streams); which era serves: dispatch.ts.
 */
import { Effect, Exit, Scope } from "effect"
import type * as http from "node:http"
import type { ToolEnv } from "../mcp/Tool.ts"
import type { Notifier } from "../supervisor/Notifier.ts"
import { TaskRegistry } from "../supervisor/TaskRegistry.ts"
import { dispatch, type Eras } from "./mcpHttp/dispatch.ts"
import { makeLegacySessions } from "./mcpHttp/LegacySessions.ts"
import { makeModernExchanges } from "./mcpHttp/ModernExchanges.ts"
import { serveHttp } from "./mcpHttp/serveHttp.ts"
import { NO_STORE } from "./mcpHttp/settings.ts"

export { MAX_SESSIONS } from "./mcpHttp/LegacySessions.ts"

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

export const startMcpHttp = Effect.fnUntraced(function*(options: McpHttpOptions) {
  const context = yield* Effect.context<ToolEnv | Notifier>()
  const registry = yield* TaskRegistry
  const run = <A, E>(effect: Effect.Effect<A, E, ToolEnv | Notifier>) =>
    Effect.runPromise(Effect.provideContext(effect, context))
  const scope = yield* Scope.make("parallel")
  let closed = false

  const legacy = makeLegacySessions({ run, scope, viewers: options.viewers })
  // The listener's own session, for 2026-07-28 requests: its tasks with keep: false end with the scope.
  const modern = yield* makeModernExchanges(options.viewers).pipe(Scope.provide(scope))
  const eras: Eras = { modern: modern.serve, legacy: legacy.serve }

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
    const session = typeof id === "string" ? legacy.get(id) : undefined
    if (session !== undefined) {
      session.open++
      response.once("close", () => {
        session.open--
        legacy.idle(session)
      })
    }
    serveHttp(request, response, {
      session,
      respond: (request, body, signal) => dispatch(request, body, signal, eras),
      track: modern.track
    }).catch((error: unknown) => {
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

  /** No request is served from now on; every 2026-07-28 exchange ends (ModernExchanges' farewell). */
  const sayFarewell = async () => {
    closed = true
    await modern.farewell()
  }
  /** Once, whether the listener's close or close() asks first. */
  let farewelled: Promise<void> | undefined
  const farewell = () => farewelled ??= sayFarewell()

  return {
    handle,
    farewell,
    close: async () => {
      modern.letGo()
      await farewell()
      await legacy.endAll()
      // Tasks a 2026-07-28 client started with keep: false were the listener's.
      await run(Effect.andThen(Scope.close(scope, Exit.void), registry.endSession(modern.listenerId)))
    }
  } satisfies McpHttp
})
