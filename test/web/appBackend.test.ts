/**
 * The MCP App's backend, over a stand-in for the host's bridge: what it asks the host and when. It polls
 * (an app has no event stream), so what it must not do is poll when nobody sees it, page through a
 * flood the view drops, or take a host's refusal for a lost connection.
 */
import { describe, expect, it } from "vitest"
import { appBackend, type ToolCaller } from "../../ui/src/appBackend.ts"
import type { CallToolResult, OutputEvent } from "../../ui/src/backend.ts"

type Answer = (args: Record<string, unknown>) => unknown

/** A host that answers each tool with `answers[tool]` and records every call. */
const host = (answers: Record<string, Answer>) => {
  const calls: Array<{ name: string; arguments: Record<string, unknown> }> = []
  const caller: ToolCaller = {
    callServerTool: async ({ arguments: args = {}, name }) => {
      calls.push({ name, arguments: args })
      const answer = answers[name]
      if (answer === undefined) throw new Error(`no ${name}`)
      return answer(args)
    }
  }
  return { caller, calls }
}

const result = (structuredContent: Record<string, unknown>, isError = false): CallToolResult => ({
  content: [{ type: "text", text: isError ? "blocked by the host's policy" : "ok" }],
  structuredContent,
  ...(isError && { isError })
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("the MCP App's backend", () => {
  it("polls nothing while nobody sees it, and goes on when it is seen", async () => {
    let seen = false
    const { caller, calls } = host({ list_tasks: () => result({ tasks: [] }) })
    const backend = appBackend(caller, { tasksEveryMs: 20, seen: () => seen })
    const off = backend.onTasks(() => {})
    await sleep(150)
    expect(calls).toEqual([])
    seen = true
    await sleep(150)
    expect(calls.length).toBeGreaterThan(0)
    off()
  })

  it("after an answer that held less than there was, reads the last lines, saying how many it passed over", async () => {
    let reads = 0
    const { caller, calls } = host({
      get_task: () => result({ terminal: null }),
      read_output: (args) => {
        reads++
        // 1: the tail at the start; 2: lines 101-110 of many more; 3: the last 200 of 10,000.
        if (reads === 1) {
          return result({ lines: [{ seq: 100, text: "a" }], nextCursor: 100, dropped: 0, truncated: false })
        }
        if (reads === 2) {
          const lines = Array.from({ length: 10 }, (_, i) => ({ seq: 101 + i, text: "b" }))
          return result({ lines, nextCursor: 110, dropped: 0, truncated: true })
        }
        expect(args).toMatchObject({ tail: 200 })
        const lines = Array.from({ length: 200 }, (_, i) => ({ seq: 9801 + i, text: "c" }))
        return result({ lines, nextCursor: 10_000, dropped: 0, truncated: false })
      }
    })
    const events: Array<OutputEvent> = []
    const off = appBackend(caller, { outputEveryMs: 20 }).onOutput("flood", 0, (e) => events.push(e))
    await sleep(200)
    off()
    const reading = calls.filter((c) => c.name === "read_output").map((c) => c.arguments)
    expect(reading.slice(0, 3)).toEqual([
      { name: "flood", tail: 2000, timestamps: true },
      { name: "flood", since: 100, timestamps: true },
      { name: "flood", tail: 200, timestamps: true }
    ])
    const lines = events.filter((e) => e.type === "lines")
    expect(lines[2]).toMatchObject({ skipped: 9800 - 110, nextCursor: 10_000 })
  })

  it("says a list the host refuses is stale, with the host's words; a button's refused call is that call's error", async () => {
    const { caller } = host({ list_tasks: () => result({}, true) })
    const backend = appBackend(caller, { tasksEveryMs: 20 })
    const states: Array<[boolean, string | undefined]> = []
    backend.onConnection((up, why) => states.push([up, why]))
    const off = backend.onTasks(() => {})
    await sleep(100)
    off()
    expect(states[0]).toEqual([
      false,
      "blocked by the host's policy. What is shown may be out of date: asked again every few seconds."
    ])
    const refused = await backend.call("stop_task", { name: "web" })
    expect(refused).toMatchObject({
      isError: true,
      content: [{ text: "The host did not run stop_task: no stop_task" }]
    })
    expect(states).toHaveLength(1)
  })

  it("says a shown task that was removed is gone and stops asking, as the page's stream does", async () => {
    let removed = false
    const { caller, calls } = host({
      get_task: () => removed ? result({}, true) : result({ terminal: null }),
      read_output: () =>
        removed
          ? result({}, true)
          : result({ lines: [{ seq: 1, text: "a" }], nextCursor: 1, dropped: 0, truncated: false })
    })
    const events: Array<OutputEvent> = []
    const off = appBackend(caller, { outputEveryMs: 20 }).onOutput("web", 0, (e) => events.push(e))
    await sleep(80)
    removed = true
    await sleep(120)
    const asked = calls.length
    await sleep(120)
    off()
    expect(events.at(-1)).toEqual({ type: "gone" })
    expect(calls.length).toBe(asked)
  })

  it("tells a name started anew from the output it showed, whatever their lengths: the new one from its start", async () => {
    const output = (run: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ seq: i + 1, text: `${run}${i + 1}`, time: `${run}-${i + 1}` }))
    let current = output("a", 3)
    const { caller } = host({
      get_task: () => result({ terminal: null }),
      read_output: (args) => {
        // As taskmux reads: lines after `since` (a cursor past the end: this output from its start).
        const since = args.since as number | undefined
        const lines = since === undefined || since > current.length ? current : current.slice(since)
        return result({ lines, nextCursor: current.length, dropped: 0, truncated: false })
      }
    })
    const events: Array<OutputEvent> = []
    const off = appBackend(caller, { outputEveryMs: 20 }).onOutput("build", 0, (e) => events.push(e))
    const shown = () =>
      events.flatMap((e) => e.type === "reset" ? ["|"] : e.type === "lines" ? e.lines.map((l) => l.text) : [])
    await sleep(80)
    // The same output goes on: only what is new.
    current = [...current, { seq: 4, text: "a4", time: "a-4" }]
    await sleep(80)
    expect(shown()).toEqual(["a1", "a2", "a3", "a4"])
    // Started anew, longer than what was shown: before, a1-a4 then b5 (its first four lines missed).
    current = output("b", 6)
    await sleep(120)
    expect(shown()).toEqual(["a1", "a2", "a3", "a4", "|", "b1", "b2", "b3", "b4", "b5", "b6"])
    // Anew again, one line short of where the view was (its read from the line before finds nothing),
    // then shorter still.
    current = output("c", 5)
    await sleep(120)
    current = output("d", 2)
    await sleep(120)
    off()
    expect(shown().slice(11)).toEqual(["|", "c1", "c2", "c3", "c4", "c5", "|", "d1", "d2"])
  })
})
