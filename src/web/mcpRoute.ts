/**
 * The listener's route to MCP over HTTP (McpHttp.ts, at /mcp): loaded with the first request there, never
 * before; a supervisor whose own files were deleted answers that in JSON-RPC, with 503.
 */
import type * as http from "node:http"
import { goneText, ownFileGone } from "../daemon/ownFiles.ts"
import { ErrorCode } from "../mcp/protocolError.ts"
import type { McpHttp } from "./McpHttp.ts"
import type { PageRunner } from "./pageRunner.ts"
import { securityHeaders } from "./securityHeaders.ts"

export const mcpRoute = (run: PageRunner, viewers: (change: 1 | -1) => void) => {
  /** MCP over HTTP (McpHttp.ts), loaded with the first request to /mcp. */
  let mcpHttp: Promise<McpHttp> | undefined
  return {
    /** Serves one request to /mcp, already admitted. */
    serve: async (request: http.IncomingMessage, response: http.ServerResponse) => {
      mcpHttp ??= import("./McpHttp.ts")
        .then(({ startMcpHttp }) => run(startMcpHttp({ viewers })))
        .catch((error: unknown) => {
          mcpHttp = undefined
          throw error
        })
      const served = await mcpHttp.catch((error: unknown) => {
        if (ownFileGone(error)) return undefined
        throw error
      })
      if (served === undefined) {
        response.writeHead(503, {
          ...securityHeaders,
          "Content-Type": "application/json",
          "Cache-Control": "no-store"
        })
        return response.end(JSON.stringify({
          jsonrpc: "2.0",
          id: null,
          error: { code: ErrorCode.InternalError, message: goneText("MCP over HTTP") }
        }))
      }
      // The SDK's answers (and the stream's) carry what every answer of the listener does: merged into theirs.
      for (const [name, value] of Object.entries(securityHeaders)) response.setHeader(name, value)
      return served.handle(request, response)
    },
    /** If it was loaded: its goodbye said (a 2026-07-28 listen is told it ends), then its close begun. */
    farewell: async () => {
      const mcp = await mcpHttp?.catch(() => undefined)
      await mcp?.farewell()
      void mcp?.close()
    }
  }
}
