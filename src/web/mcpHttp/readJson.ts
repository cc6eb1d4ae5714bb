/** The body of a POST to /mcp, read whole and parsed, or refused. */
import { isJsonContentType } from "@modelcontextprotocol/server"
import type * as http from "node:http"
import { ErrorCode } from "../../mcp/protocolError.ts"
import { readBody } from "../readBody.ts"
import { jsonRpcError } from "./jsonRpcError.ts"
import { MAX_BODY } from "./settings.ts"

/** The body of a POST as JSON, or the answer that refuses it. */
export const readJson = (request: http.IncomingMessage): Promise<{ json: unknown } | Response> | Response => {
  if (!isJsonContentType(request.headers["content-type"] ?? null)) {
    return jsonRpcError(415, -32000, "Unsupported Media Type: POST /mcp takes Content-Type: application/json.")
  }
  return readBody(request, MAX_BODY).then((body) => {
    if (body === "too large") {
      return jsonRpcError(413, -32000, `Payload Too Large: a message is at most ${MAX_BODY} bytes.`)
    }
    try {
      return { json: JSON.parse(body.toString("utf8")) }
    } catch (error) {
      return jsonRpcError(400, ErrorCode.ParseError, `Parse error: the body is not JSON (${(error as Error).message}).`)
    }
  })
}
