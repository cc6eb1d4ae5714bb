/**
 * What a 2026-07-28 request must say besides its body, by the revision's HTTP binding: its revision
 * (taskmux speaks one of that era), and in headers its revision, method and what it acts on.
 */
import type { JSONRPCRequest } from "@modelcontextprotocol/server"
import { ErrorCode } from "../../mcp/protocolError.ts"
import { MODERN_VERSION, PROTOCOL_VERSIONS } from "../../mcp/revisions.ts"
import { jsonRpcError } from "./jsonRpcError.ts"
import { nameHeaderIssue } from "./nameHeaderIssue.ts"

/** The answer that refuses a 2026-07-28 request (`revision` is the one its _meta names), or undefined. */
export const modernRefusal = (
  message: JSONRPCRequest,
  revision: string | undefined,
  headers: Headers
): Response | undefined => {
  if (revision !== MODERN_VERSION) {
    return jsonRpcError(
      400,
      ErrorCode.UnsupportedProtocolVersion,
      `Unsupported protocol version ${JSON.stringify(revision)} in _meta: taskmux speaks ${
        PROTOCOL_VERSIONS.join(", ")
      } (the ones before ${MODERN_VERSION} in a session, opened with initialize).`,
      message.id,
      { supported: PROTOCOL_VERSIONS, requested: revision }
    )
  }
  // The revision's HTTP binding: every request names its revision and method in headers too.
  for (const header of ["MCP-Protocol-Version", "Mcp-Method"]) {
    if (headers.get(header) === null) {
      return jsonRpcError(
        400,
        -32020,
        `Bad Request: the request headers and body disagree: the body is a ${MODERN_VERSION} request but ` +
          `the required ${header} header is absent.`,
        message.id
      )
    }
  }
  // And what it acts on (a tool, a prompt, a resource, a task) in Mcp-Name, which a gateway may route
  // or authorize by: it must say what the body says.
  const named = nameHeaderIssue(message.method, message.params, headers.get("mcp-name"))
  if (named !== undefined) {
    return jsonRpcError(400, -32020, `Bad Request: the request headers and body disagree: ${named}.`, message.id)
  }
  return undefined
}
