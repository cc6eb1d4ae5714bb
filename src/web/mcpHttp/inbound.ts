/** A 2026-07-28 request as the listener's session takes it (ModernExchanges.ts). */
import type { JSONRPCRequest } from "@modelcontextprotocol/server"
import { isObject } from "../../mcp/json.ts"

/** The request as the listener's session takes it: its own id and progress token; start_task keeps. */
export const inbound = (message: JSONRPCRequest, internal: string) => {
  const params = message.params as Record<string, unknown> | undefined
  let sent = params
  const meta = params?._meta
  if (isObject(meta) && meta.progressToken !== undefined) {
    sent = { ...sent, _meta: { ...meta, progressToken: internal } }
  }
  const args = params?.arguments
  if (message.method === "tools/call" && params?.name === "start_task" && isObject(args) && !("keep" in args)) {
    sent = { ...sent, arguments: { ...args, keep: true } }
  }
  return { ...message, id: internal, ...(sent !== undefined && { params: sent }) }
}
