/**
 * Where each request to the listener goes, once admitted (admission.ts): /mcp to MCP over HTTP, a POST
 * to the page's tool calls, the two live streams, the ping, and otherwise the page's files; each refusal
 * answered in JSON with its status.
 */
import type * as http from "node:http"
import type { Admit } from "./admission.ts"
import { pagePath } from "./guard.ts"
import { type Asset, pageAsset } from "./pageAssets.ts"
import { fail, securityHeaders } from "./securityHeaders.ts"

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => unknown
type StreamHandler = (request: http.IncomingMessage, response: http.ServerResponse, url: URL) => unknown

export interface WebRoutes {
  readonly admit: Admit
  /** The listener's host names (none before it listens). */
  readonly hosts: () => ReadonlySet<string>
  readonly mcp: Handler
  /** A POST at a path (from the page's own), by a read-only page or not. */
  readonly call: (
    request: http.IncomingMessage,
    response: http.ServerResponse,
    path: string,
    readOnly: boolean
  ) => Promise<unknown>
  /** `/api/events`: the task list, live. */
  readonly events: StreamHandler
  /** `/api/output`: a task's output, live. */
  readonly output: StreamHandler
  readonly assets: ReadonlyMap<string, Asset>
}

export const webRouter =
  (routes: WebRoutes) => async (request: http.IncomingMessage, response: http.ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://listener")
    const admitted = routes.admit(request, url, routes.hosts())
    if (!admitted.ok) {
      for (const [name, value] of Object.entries(admitted.headers)) response.setHeader(name, value)
      return fail(response, admitted.status, admitted.error)
    }
    if (admitted.mcp) return routes.mcp(request, response)
    if (request.method !== "GET" && request.method !== "POST") {
      response.setHeader("Allow", "GET, POST")
      return fail(response, 405, `${request.method} is not served here: GET the page, POST /api/call.`)
    }
    const { path } = admitted
    if (!admitted.changes && url.pathname === "/") {
      // The page is at its own path, with its cookie; the address bar keeps no token.
      response.writeHead(303, {
        ...securityHeaders,
        Location: pagePath(admitted.token),
        "Cache-Control": "no-store",
        ...(admitted.setCookie !== undefined && { "Set-Cookie": admitted.setCookie })
      })
      return response.end()
    }
    if (admitted.changes) return routes.call(request, response, path, admitted.readOnly)
    // Whether this page's token is taken, for a page whose stream failed: answered, ended, nothing opened.
    if (path === "/api/ping") {
      response.writeHead(204, { ...securityHeaders, "Cache-Control": "no-store" })
      return response.end()
    }
    if (path === "/api/events") return routes.events(request, response, url)
    if (path === "/api/output") return routes.output(request, response, url)
    const asset = pageAsset(routes.assets, path, admitted.token, admitted.readOnly)
    if (!asset.found) return fail(response, 404, asset.error)
    response.writeHead(200, asset.headers)
    response.end(asset.body)
  }
