/** A live stream's start (Server-Sent Events): its headers and first comment; then each event, as JSON. */
import type * as http from "node:http"
import { securityHeaders } from "./securityHeaders.ts"

export const sse = (response: http.ServerResponse) => {
  response.writeHead(200, {
    ...securityHeaders,
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-store",
    Connection: "keep-alive"
  })
  response.write(": taskmux\n\n")
  return (event: string, data: unknown) => response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
}
