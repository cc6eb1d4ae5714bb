/** What a 2026-07-28 request must say besides its body: its revision, and its headers. */
import type { JSONRPCRequest } from "@modelcontextprotocol/server"
import { describe, expect, it } from "vitest"
import { PROTOCOL_VERSIONS } from "../../../src/mcp/revisions.ts"
import { modernRefusal } from "../../../src/web/mcpHttp/modernRefusal.ts"

const call: JSONRPCRequest = { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "list_tasks" } }
const complete = { "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "list_tasks" }
const without = (name: string) => new Headers(Object.entries(complete).filter(([key]) => key !== name))

describe("modernRefusal", () => {
  it("takes a 2026-07-28 request whose headers say its revision, method and name", () => {
    expect(modernRefusal(call, "2026-07-28", new Headers(complete))).toBeUndefined()
  })

  it("refuses another revision in _meta, with the ones spoken", async () => {
    const refused = modernRefusal(call, "2099-01-01", new Headers(complete))!
    expect(refused.status).toBe(400)
    expect(await refused.json()).toEqual({
      jsonrpc: "2.0",
      id: 7,
      error: {
        code: -32022,
        message: `Unsupported protocol version "2099-01-01" in _meta: taskmux speaks ${
          PROTOCOL_VERSIONS.join(", ")
        } (the ones before 2026-07-28 in a session, opened with initialize).`,
        data: { supported: PROTOCOL_VERSIONS, requested: "2099-01-01" }
      }
    })
  })

  it("refuses a request without its revision or method header, or whose Mcp-Name disagrees with its body", async () => {
    for (const header of ["MCP-Protocol-Version", "Mcp-Method"]) {
      const refused = modernRefusal(call, "2026-07-28", without(header))!
      expect(refused.status).toBe(400)
      expect(await refused.json()).toEqual({
        jsonrpc: "2.0",
        id: 7,
        error: {
          code: -32020,
          message: "Bad Request: the request headers and body disagree: the body is a 2026-07-28 request but " +
            `the required ${header} header is absent.`
        }
      })
    }
    const named = modernRefusal(call, "2026-07-28", new Headers({ ...complete, "Mcp-Name": "stop_task" }))!
    expect(await named.json()).toMatchObject({
      error: {
        code: -32020,
        message: "Bad Request: the request headers and body disagree: the body carries params.name=\"list_tasks\" " +
          "but the Mcp-Name header names \"stop_task\"."
      }
    })
  })
})
