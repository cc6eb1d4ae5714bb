/** node:http's request as the SDK's transports take it. */
import type * as http from "node:http"

/**
 * node:http's request as the SDK's transports take it: method, URL, headers and the signal that ends with
 * the connection, without its body: they are given it parsed (the SDK's toWebRequest would serialize it
 * again, to be parsed by nobody).
 */
export const webRequest = (request: http.IncomingMessage, signal: AbortSignal) => {
  const headers = new Headers()
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue
    if (Array.isArray(value)) { for (const item of value) headers.append(name, item) }
    else headers.set(name, value)
  }
  return new Request(`http://${request.headers.host ?? "localhost"}${request.url ?? "/"}`, {
    method: request.method ?? "GET",
    headers,
    signal
  })
}
