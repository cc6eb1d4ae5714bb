/**
 * Which era serves a request to /mcp: the SDK's own era classifier (`classifyInboundRequest`, what its
 * `createMcpHandler` routes by) says, or refuses it; this module hands it to the one that serves it.
 */
import { classifyInboundRequest, type InboundModernRoute } from "@modelcontextprotocol/server"
import type * as http from "node:http"
import { idOf, jsonRpcError } from "./jsonRpcError.ts"
import { webRequest } from "./webRequest.ts"

/** Who serves each era. */
export interface Eras {
  /** A 2026-07-28 request or notification: one exchange of the listener's session (ModernExchanges.ts). */
  readonly modern: (routed: InboundModernRoute, request: Request) => Promise<Response>
  /** A 2025-era message: its session's, or an initialize that opens one (LegacySessions.ts). */
  readonly legacy: (request: Request, body: unknown, initialize: boolean) => Promise<Response> | Response
}

/** The answer to a request, its body already read and parsed (undefined for a GET or DELETE). */
export const dispatch = (
  request: http.IncomingMessage,
  body: unknown,
  signal: AbortSignal,
  eras: Eras
): Promise<Response> | Response => {
  const method = request.method ?? "GET"
  if (method !== "GET" && method !== "POST" && method !== "DELETE") {
    return jsonRpcError(
      405,
      -32000,
      `${method} is not served at /mcp: POST a message, GET a session's stream, DELETE a session.`,
      null,
      undefined,
      { Allow: "GET, POST, DELETE" }
    )
  }
  const routed = classifyInboundRequest({
    httpMethod: method,
    ...header(request, "protocolVersionHeader", "mcp-protocol-version"),
    ...header(request, "mcpMethodHeader", "mcp-method"),
    ...header(request, "mcpNameHeader", "mcp-name"),
    ...(body !== undefined && { body })
  })
  switch (routed.kind) {
    case "reject":
      return jsonRpcError(routed.httpStatus, routed.code, routed.message, idOf(body), routed.data)
    case "modern":
      return eras.modern(routed, webRequest(request, signal))
    case "legacy":
      return eras.legacy(webRequest(request, signal), body, routed.reason === "initialize")
  }
}

const header = <K extends string>(
  request: http.IncomingMessage,
  key: K,
  name: string
): { [P in K]?: string } => {
  const value = request.headers[name]
  return (typeof value === "string" ? { [key]: value } : {}) as { [P in K]?: string }
}
