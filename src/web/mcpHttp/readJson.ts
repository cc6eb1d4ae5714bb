/** The body of a POST to /mcp, read whole and parsed, or refused. */
import { isJsonContentType } from "@modelcontextprotocol/server"
import type * as http from "node:http"
import { ErrorCode } from "../../mcp/protocolError.ts"
import { jsonRpcError } from "./jsonRpcError.ts"
import { MAX_BODY } from "./settings.ts"

/** The body of a POST as JSON, or the answer that refuses it. Events, not `for await`: a small body in one tick. */
export const readJson = (request: http.IncomingMessage): Promise<{ json: unknown } | Response> | Response => {
  if (!isJsonContentType(request.headers["content-type"] ?? null)) {
    return jsonRpcError(415, -32000, "Unsupported Media Type: POST /mcp takes Content-Type: application/json.")
  }
  return new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY) return void chunks.push(chunk)
      request.off("data", onData).resume()
      resolve(jsonRpcError(413, -32000, `Payload Too Large: a message is at most ${MAX_BODY} bytes.`))
    }
    request.on("data", onData).once("error", reject).once("end", () => {
      if (size > MAX_BODY) return
      try {
        resolve({ json: JSON.parse(Buffer.concat(chunks, size).toString("utf8")) })
      } catch (error) {
        resolve(jsonRpcError(
          400,
          ErrorCode.ParseError,
          `Parse error: the body is not JSON (${(error as Error).message}).`
        ))
      }
    })
  })
}
