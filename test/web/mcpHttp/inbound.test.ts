/** A 2026-07-28 request as the listener's session takes it: the exchange's own ids; start_task keeps. */
import { describe, expect, it } from "vitest"
import { inbound } from "../../../src/web/mcpHttp/inbound.ts"

describe("inbound", () => {
  it("gives the request the exchange's id, and its progress token too, leaving the rest of _meta", () => {
    expect(inbound({ jsonrpc: "2.0", id: 1, method: "ping" }, "http-1")).toEqual({
      jsonrpc: "2.0",
      id: "http-1",
      method: "ping"
    })
    expect(
      inbound({
        jsonrpc: "2.0",
        id: "a",
        method: "tools/call",
        params: { name: "wait_for", arguments: {}, _meta: { progressToken: 5, other: true } }
      }, "http-2").params
    ).toEqual({ name: "wait_for", arguments: {}, _meta: { progressToken: "http-2", other: true } })
  })

  it("makes a start_task keep its task unless it says keep itself", () => {
    const start = (args: Record<string, unknown>) =>
      inbound({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "start_task", arguments: args } }, "i")
        .params
    expect(start({ name: "db" })).toEqual({ name: "start_task", arguments: { name: "db", keep: true } })
    expect(start({ name: "db", keep: false })).toEqual({ name: "start_task", arguments: { name: "db", keep: false } })
    expect(
      inbound({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "stop_task", arguments: {} } }, "i")
        .params
    ).toEqual({ name: "stop_task", arguments: {} })
  })
})
