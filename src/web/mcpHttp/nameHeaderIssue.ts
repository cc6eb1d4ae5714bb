/** 2026-07-28's Mcp-Name header, which must say what the request's body acts on. */
import { headOf } from "../../domain/clipText.ts"
import { isObject } from "../../mcp/json.ts"

/** The body field Mcp-Name mirrors, by method (2026-07-28's Streamable HTTP binding). */
const NAMED_BY: Record<string, string> = {
  "tools/call": "name",
  "prompts/get": "name",
  "resources/read": "uri",
  "tasks/get": "taskId",
  "tasks/update": "taskId",
  "tasks/cancel": "taskId"
}

/** Why a request's Mcp-Name header does not mirror its body, or undefined when it does (or need not). */
export const nameHeaderIssue = (method: string, params: unknown, header: string | null) => {
  const field = Object.hasOwn(NAMED_BY, method) ? NAMED_BY[method]! : undefined
  const body = field !== undefined && isObject(params) ? params[field] : undefined
  if (typeof body !== "string") return undefined
  if (header === null) return `the body carries params.${field}="${body}" but the required Mcp-Name header is absent`
  const given = header.trim()
  // Values that are not plain ASCII travel as =?base64?…?=.
  const sentinel = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/.exec(given)
  const decoded = sentinel === null ? given : Buffer.from(sentinel[1]!, "base64").toString("utf8")
  return decoded === body
    ? undefined
    : `the body carries params.${field}="${body}" but the Mcp-Name header names "${headOf(decoded, 200)}"`
}
