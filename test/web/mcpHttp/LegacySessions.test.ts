/** 2025-era sessions over HTTP, what is answered before any session is opened: a message that opens none. */
import { Effect, Scope } from "effect"
import { describe, expect, it } from "vitest"
import { makeLegacySessions } from "../../../src/web/mcpHttp/LegacySessions.ts"

const sessions = () =>
  makeLegacySessions({
    run: () => Promise.reject(new Error("no effect runs before a session opens")),
    scope: Effect.runSync(Scope.make()),
    viewers: () => {}
  })

const post = (headers: Record<string, string> = {}) =>
  new Request("http://127.0.0.1:4321/mcp", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers }
  })

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "batch", version: "1" } }
}

describe("LegacySessions before a session", () => {
  it("refuses an initialize in a batch as that, not as a missing Mcp-Session-Id that asks for an initialize", async () => {
    const answer = await sessions().serve(
      post(),
      [initialize, { jsonrpc: "2.0", method: "notifications/initialized" }],
      false
    )
    expect(answer.status).toBe(400)
    expect(await answer.json()).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: {
        code: -32600,
        message: "Invalid Request: initialize is sent alone, not in a JSON-RPC batch (MCP 2025-03-26 forbids it; " +
          "2025-06-18 and later take no batches)."
      }
    })
  })

  it("asks a request without a session for one, and names an unknown session", async () => {
    const none = await sessions().serve(post(), { jsonrpc: "2.0", id: 2, method: "tools/list" }, false)
    expect([none.status, (await none.json() as { error: { message: string } }).error.message]).toEqual([
      400,
      expect.stringMatching(/Mcp-Session-Id header is required/)
    ])
    const unknown = await sessions().serve(post({ "mcp-session-id": "gone" }), [initialize], false)
    expect([unknown.status, (await unknown.json() as { error: { code: number } }).error.code]).toEqual([404, -32001])
  })
})
