/**
 * The page's tool calls: `POST /api/call` with `{ tool, arguments }` runs a tool of the tool table
 * exactly as tools/call does, and answers `{ result }` (the tool's result) or `{ error }`. The read-only
 * page may only look.
 */
import type * as http from "node:http"
import type { Tool } from "../mcp/Tool.ts"
import { tools } from "../mcp/toolTable.ts"
import type { PageRunner } from "./pageRunner.ts"
import { readBody } from "./readBody.ts"
import { fail, securityHeaders } from "./securityHeaders.ts"

/** A call's body at most: send_input's 1 MiB of data, escaped in JSON (a control character takes six). */
const MAX_BODY = 8 * 1024 * 1024

/** Tools the page may call when read-only. */
const READ_TOOLS = new Set(["list_tasks", "get_task", "read_output"])

export const toolsByName = new Map(tools.map((tool) => [tool.name, tool]))

/** A call's answer before it runs: why it is refused (its status and error). */
interface Refused {
  readonly status: number
  readonly body: { readonly error: string }
}

/** What a call from the page runs (the tool, with its arguments), or why it is refused. */
export const pageCall = (
  name: unknown,
  args: unknown,
  readOnly: boolean
): { readonly refused: Refused } | { readonly tool: Tool; readonly request: object } => {
  const tool = typeof name === "string" ? toolsByName.get(name) : undefined
  if (tool === undefined) {
    const tools = `the tools are ${[...toolsByName.keys()].join(", ")}`
    return {
      refused: typeof name === "string"
        ? { status: 404, body: { error: `No tool ${JSON.stringify(name)}: ${tools}.` } }
        : {
          status: 400,
          body: { error: `The body needs "tool" (a tool's name) and "arguments" (an object): ${tools}.` }
        }
    }
  }
  if (readOnly && !READ_TOOLS.has(tool.name)) {
    return { refused: { status: 403, body: { error: `This page is read-only: ${tool.name} is refused.` } } }
  }
  // A read-only link may be shared more widely than the full one: no environment values through it.
  if (
    readOnly && typeof args === "object" && args !== null && (args as { envValues?: unknown }).envValues === true
  ) {
    return {
      refused: {
        status: 403,
        body: { error: "This page is read-only: environment values (they may hold secrets) need the full token." }
      }
    }
  }
  // What the person starts from the page is theirs to keep: it outlives any conversation.
  const given = typeof args === "object" && args !== null ? args : {}
  const request = tool.name === "start_task" ? { ...given, keep: true } : given
  return { tool, request }
}

/** The handler of a POST at `path` (from the page's own path), by a page that is read-only or not. */
export const apiCall = (run: PageRunner) => {
  const callTool = async (name: unknown, args: unknown, readOnly: boolean, signal: AbortSignal) => {
    const call = pageCall(name, args, readOnly)
    if ("refused" in call) return call.refused
    return { status: 200, body: { result: await run(call.tool.call(call.request, {}), signal, readOnly) } }
  }
  return async (request: http.IncomingMessage, response: http.ServerResponse, path: string, readOnly: boolean) => {
    if (path !== "/api/call") return fail(response, 404, `Nothing to POST at ${path}: POST /api/call.`)
    if (!(request.headers["content-type"] ?? "").startsWith("application/json")) {
      return fail(response, 415, "POST /api/call takes Content-Type: application/json.")
    }
    const read = await readBody(request, MAX_BODY)
    if (read === "too large") {
      response.setHeader("Connection", "close")
      return fail(
        response,
        413,
        `POST /api/call: the body is over ${MAX_BODY >> 20} MiB (send_input takes 1 MiB at a time).`
      )
    }
    let body: unknown
    try {
      body = JSON.parse(read.toString("utf8"))
    } catch {
      return fail(response, 400, "POST /api/call: the body is not JSON.")
    }
    const { arguments: args, tool } = (typeof body === "object" && body !== null ? body : {}) as {
      tool?: unknown
      arguments?: unknown
    }
    // A viewer that goes away (a closed tab, an aborted fetch) takes its call with it: a wait ends
    // then, rather than at its timeout with nobody to answer.
    const gone = new AbortController()
    response.once("close", () => {
      if (!response.writableFinished) gone.abort()
    })
    const answer = await callTool(tool, args, readOnly, gone.signal)
    response.writeHead(answer.status, {
      ...securityHeaders,
      "Content-Type": "application/json",
      "Cache-Control": "no-store"
    })
    return response.end(JSON.stringify(answer.body))
  }
}
