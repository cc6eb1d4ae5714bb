/** A 2025-era session's side of the SDK's transport, as taskmux's session (`serveSession`) takes it. */
import type { JSONRPCMessage, WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/server"
import type { SessionTransport } from "../../mcp/McpServer.ts"

/** What a cancelled request's POST ends with: no MCP code says it; JSON-RPC leaves this one to servers (LSP's). */
const REQUEST_CANCELLED = -32800

/**
 * The session's side of the SDK's transport. Answers are JSON (one write each, the quickest for the
 * client to take); notifications, progress included, go on the session's GET stream, which the SDK's
 * clients open after initialize.
 */
export const sessionTransport = (
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
