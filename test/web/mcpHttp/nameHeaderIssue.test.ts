/** 2026-07-28's Mcp-Name header against the body it must mirror. */
import { describe, expect, it } from "vitest"
import { nameHeaderIssue } from "../../../src/web/mcpHttp/nameHeaderIssue.ts"

describe("nameHeaderIssue", () => {
  it("takes a header that says what the body acts on, trimmed, or base64 in its sentinel where it is not ASCII", () => {
    expect(nameHeaderIssue("tools/call", { name: "start_task" }, "start_task")).toBeUndefined()
    expect(nameHeaderIssue("tools/call", { name: "start_task" }, "  start_task ")).toBeUndefined()
    expect(nameHeaderIssue("resources/read", { uri: "task://db/output" }, "task://db/output")).toBeUndefined()
    expect(nameHeaderIssue("tasks/cancel", { taskId: "t-1" }, "t-1")).toBeUndefined()
    const name = "café ☕"
    const sentinel = `=?base64?${Buffer.from(name, "utf8").toString("base64")}?=`
    expect(nameHeaderIssue("prompts/get", { name }, sentinel)).toBeUndefined()
  })

  it("says so when the header is absent, or names something else (what it names cut at 200 characters)", () => {
    expect(nameHeaderIssue("tools/call", { name: "start_task" }, null)).toBe(
      "the body carries params.name=\"start_task\" but the required Mcp-Name header is absent"
    )
    expect(nameHeaderIssue("tools/call", { name: "start_task" }, "stop_task")).toBe(
      "the body carries params.name=\"start_task\" but the Mcp-Name header names \"stop_task\""
    )
    expect(nameHeaderIssue("tools/call", { name: "start_task" }, "x".repeat(500))).toBe(
      `the body carries params.name="start_task" but the Mcp-Name header names "${"x".repeat(200)}"`
    )
  })

  it("asks nothing of a method that acts on nothing named, or of a body without the field as a string", () => {
    expect(nameHeaderIssue("tools/list", {}, null)).toBeUndefined()
    expect(nameHeaderIssue("toString", { name: "x" }, null)).toBeUndefined()
    expect(nameHeaderIssue("tools/call", { name: 7 }, null)).toBeUndefined()
    expect(nameHeaderIssue("tools/call", undefined, null)).toBeUndefined()
  })
})
