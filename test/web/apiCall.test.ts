/** What a call from the page runs, decided alone: the tool, its arguments, or why it is refused. */
import { describe, expect, it } from "vitest"
import { pageCall } from "../../src/web/apiCall.ts"

describe("pageCall", () => {
  it("refuses a tool that is not one (404) and a body without a tool's name (400), naming the tools", () => {
    expect(pageCall("rm_rf", {}, false)).toMatchObject({
      refused: { status: 404, body: { error: expect.stringMatching(/^No tool "rm_rf": the tools are start_task, /) } }
    })
    expect(pageCall(undefined, {}, false)).toMatchObject({
      refused: {
        status: 400,
        body: { error: expect.stringMatching(/^The body needs "tool" \(a tool's name\) and "arguments"/) }
      }
    })
  })

  it("lets the read-only page look only, and never at environment values", () => {
    expect(pageCall("stop_task", { name: "web" }, true)).toEqual({
      refused: { status: 403, body: { error: "This page is read-only: stop_task is refused." } }
    })
    expect(pageCall("get_task", { name: "web", envValues: true }, true)).toMatchObject({ refused: { status: 403 } })
    expect(pageCall("get_task", { name: "web", envValues: true }, false)).toMatchObject({
      tool: { name: "get_task" },
      request: { name: "web", envValues: true }
    })
  })

  it("keeps what the page starts; passes other arguments as they are (none: an empty object)", () => {
    expect(pageCall("start_task", { name: "web", command: "true" }, false)).toMatchObject({
      request: { name: "web", command: "true", keep: true }
    })
    expect(pageCall("list_tasks", null, true)).toMatchObject({ tool: { name: "list_tasks" }, request: {} })
  })
})
