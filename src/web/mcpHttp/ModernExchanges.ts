/**
 * 2026-07-28 over HTTP (McpHttp.ts says how it goes): each request one exchange of the listener's own
 * long-lived session, its ids the client's outside and the exchange's own inside.
 */
import {
  type InboundModernRoute,
  type JSONRPCMessage,
  type JSONRPCRequest,
  PerRequestHTTPServerTransport
} from "@modelcontextprotocol/server"
import { Effect } from "effect"
import { isObject } from "../../mcp/json.ts"
import { serveSession, type SessionTransport } from "../../mcp/McpServer.ts"
import { SUBSCRIPTION_ID_META } from "../../mcp/revisions.ts"
import { inbound } from "./inbound.ts"
import type { Id } from "./jsonRpcError.ts"
import { modernRefusal } from "./modernRefusal.ts"
import { idleMs } from "./settings.ts"

/** One 2026-07-28 request in the listener's session, by the id it has there. */
interface Exchange {
  readonly transport: PerRequestHTTPServerTransport
  readonly method: string
  /** The client's own id and progress token. */
  readonly id: Id
  readonly progressToken: unknown
  answered: boolean
}

export interface ModernExchanges {
  /** The listener's session's viewer id: what its tasks with keep: false belong to. */
  readonly listenerId: string
  /** A 2026-07-28 request or notification, as the classifier routed it. */
  readonly serve: (routed: InboundModernRoute, request: Request) => Promise<Response>
  /** An exchange's event stream went out: `ended` when its response closes (farewell waits for it). */
  readonly track: (ended: Promise<void>) => void
  /** Ends every exchange, a listen saying it is torn down; then waits (a second at most) for their streams. */
  readonly farewell: () => Promise<void>
  /** The supervisor is no longer kept for the last request's sake. */
  readonly letGo: () => void
}

/** `viewers`: something is using the listener (+1) or stopped (-1). The listener's session lives in the Scope. */
export const makeModernExchanges = Effect.fnUntraced(function*(viewers: (change: 1 | -1) => void) {
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
    if (modernQuiet === undefined) viewers(1)
    else clearTimeout(modernQuiet)
    modernQuiet = setTimeout(() => {
      modernQuiet = undefined
      viewers(-1)
    }, idleMs()).unref()
  }
  const listener = yield* serveSession(modern)

  const serve = async (routed: InboundModernRoute, request: Request): Promise<Response> => {
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
    viewers(1)
    heardFromModern()
    transport.onmessage = (received) => modern.onmessage?.(inbound(received as JSONRPCRequest, internal))
    transport.onclose = () => {
      if (exchanges.get(internal) !== exchange) return
      exchanges.delete(internal)
      heardFromModern()
      viewers(-1)
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

  return {
    listenerId: listener.id,
    serve,
    track: (ended) => {
      modernStreams.add(ended)
      void ended.then(() => modernStreams.delete(ended))
    },
    /**
     * Ends every 2026-07-28 exchange, a listen saying it is torn down, as that revision requires (its
     * client may listen again); then waits (a second at most) for their streams to reach their clients.
     */
    farewell: async () => {
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
    },
    letGo: () => {
      if (modernQuiet !== undefined) {
        clearTimeout(modernQuiet)
        modernQuiet = undefined
        viewers(-1)
      }
    }
  } satisfies ModernExchanges
})
