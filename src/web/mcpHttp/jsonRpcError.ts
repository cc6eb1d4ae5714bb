/** The JSON-RPC error answers of MCP over HTTP, and the request id they echo. */
import { isObject } from "../../mcp/json.ts"

/** A JSON-RPC request id. */
export type Id = string | number

export const jsonRpcError = (
  status: number,
  code: number,
  message: string,
  id: Id | null = null,
  data?: unknown,
  headers: Record<string, string> = {}
) =>
  Response.json({ jsonrpc: "2.0", id, error: { code, message, ...(data !== undefined && { data }) } }, {
    status,
    headers
  })

/** A message's id, or null when it has none (a notification, or no JSON-RPC message at all). */
export const idOf = (body: unknown): Id | null =>
  isObject(body) && (typeof body.id === "string" || typeof body.id === "number") ? body.id : null
