/** A session's protocol tasks alone: status by era, cancel, TTL, bounds, unknown ids. */
import fc from "fast-check"
import { afterEach, describe, expect, it, vi } from "vitest"
import {
  type CallRun,
  legacyView,
  modernView,
  type Outcome,
  PER_SESSION,
  type ProtocolTask,
  ProtocolTasks,
  TOTAL
} from "../../src/mcp/ProtocolTasks.ts"

/** A call whose outcome the test decides, and whether it was cancelled. */
const pendingCall = () => {
  let settle!: (outcome: Outcome) => void
  const cancelled: Array<string> = []
  const call: CallRun = {
    cancel: (reason) => {
      cancelled.push(reason)
      settle({ error: { code: -32603, message: "interrupted" } })
    },
    outcome: new Promise((resolve) => settle = resolve)
  }
  return { call, settle: (outcome: Outcome) => settle(outcome), cancelled }
}

const ok = (isError = false): Outcome => ({
  result: { content: [{ type: "text", text: "Task \"a\" ended.\nLast lines: …" }], ...(isError && { isError }) }
})

describe("ProtocolTasks", () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it("a tool's error result fails a 2025-11-25 task and completes a 2026-07-28 one; the answer's first line is the status", async () => {
    const changes: Array<string> = []
    const tasks = new ProtocolTasks((task) => changes.push(`${task.legacy ? "A" : "B"}:${task.status}`))
    const a = pendingCall()
    const b = pendingCall()
    const legacy = tasks.create(a.call, true)
    const modern = tasks.create(b.call, false)
    a.settle(ok(true))
    b.settle(ok(true))
    await Promise.all([legacy.done, modern.done])
    expect(legacyView(legacy)).toMatchObject({ status: "failed", statusMessage: "Task \"a\" ended." })
    expect(modernView(modern, true)).toMatchObject({
      status: "completed",
      result: { resultType: "complete", isError: true }
    })
    expect(changes).toEqual(["A:failed", "B:completed"])
    tasks.close()
  })

  it("a cancel is final at once; the call is ended and its later outcome ignored", async () => {
    const tasks = new ProtocolTasks(() => {})
    const c = pendingCall()
    const task = tasks.create(c.call, true)
    tasks.cancel(task)
    expect(task.status).toBe("cancelled")
    expect(c.cancelled).toEqual(["cancelled by tasks/cancel"])
    await task.done
    expect(task.status).toBe("cancelled")
    expect(task.outcome).toBeUndefined()
    tasks.close()
  })

  it("names an unknown id and a missing one with -32602; forgets a task its TTL after it ended", async () => {
    vi.useFakeTimers({ toFake: ["Date", "performance"] })
    const tasks = new ProtocolTasks(() => {})
    expect(() => tasks.get("nope")).toThrow(
      expect.objectContaining({ code: -32602, message: expect.stringMatching(/not found/) })
    )
    expect(() => tasks.get(7)).toThrow(
      expect.objectContaining({ code: -32602, message: expect.stringMatching(/taskId/) })
    )
    const c = pendingCall()
    const task = tasks.create(c.call, false, 5_000)
    vi.advanceTimersByTime(60_000)
    // Working: kept however long it takes.
    expect(tasks.get(task.taskId)).toBe(task)
    c.settle(ok())
    await task.done
    vi.advanceTimersByTime(4_000)
    expect(tasks.get(task.taskId)).toBe(task)
    vi.advanceTimersByTime(1_001)
    expect(() => tasks.get(task.taskId)).toThrow(expect.objectContaining({ code: -32602 }))
    tasks.close()
  })

  it("holds at most PER_SESSION tasks working; a finished one makes room, the one that ended first going first", async () => {
    vi.useFakeTimers({ toFake: ["Date", "performance"] })
    const tasks = new ProtocolTasks(() => {})
    const calls = Array.from({ length: PER_SESSION }, () => pendingCall())
    const held = calls.map((c) => tasks.create(c.call, true))
    expect(tasks.room()).toMatchObject({
      message: "Too many protocol tasks: this session has 100 calls working as tasks (at most 100 held, 1000 in " +
        "all sessions). Wait for some to end, cancel some (tasks/cancel), or call without a task."
    })
    // Ended within their TTL (an hour): still held, and read, until a new task needs the room.
    for (const i of [7, 3]) {
      calls[i]!.settle(ok())
      await held[i]!.done
      vi.advanceTimersByTime(10)
    }
    expect(tasks.get(held[7]!.taskId).status).toBe("completed")
    expect(tasks.room()).toBeUndefined()
    expect(tasks.has(held[7]!.taskId)).toBe(false)
    expect(tasks.has(held[3]!.taskId)).toBe(true)
    tasks.close()
  })

  it("at the supervisor's bound, a session takes room from other sessions' finished tasks, the one that ended first going first", async () => {
    vi.useFakeTimers({ toFake: ["Date", "performance"] })
    const full = Array.from({ length: TOTAL / PER_SESSION }, () => new ProtocolTasks(() => {}))
    const firsts: Array<ProtocolTask> = []
    for (const store of full) {
      for (let i = 0; i < PER_SESSION; i++) {
        const c = pendingCall()
        const task = store.create(c.call, true, 86_400_000)
        if (i === 0) firsts.push(task)
        c.settle(ok())
        await task.done
        vi.advanceTimersByTime(1)
      }
    }
    const newcomer = new ProtocolTasks(() => {})
    expect(newcomer.room()).toBeUndefined()
    // The first task ever to end made the room; every other is still there.
    expect(full[0]!.has(firsts[0]!.taskId)).toBe(false)
    expect(full[1]!.has(firsts[1]!.taskId)).toBe(true)
    for (const store of [...full, newcomer]) store.close()
  })

  it("ids are unique and unguessable; every view carries what its era requires", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 50 }), fc.boolean(), (n, legacy) => {
      const tasks = new ProtocolTasks(() => {})
      const made: Array<ProtocolTask> = Array.from({ length: n }, () => tasks.create(pendingCall().call, legacy))
      expect(new Set(made.map((t) => t.taskId)).size).toBe(n)
      for (const task of made) {
        expect(task.taskId).toMatch(/^[0-9a-f]{32}$/)
        const view: Record<string, unknown> = legacy ? legacyView(task) : modernView(task, true)
        for (const key of legacy ? ["ttl", "pollInterval"] : ["ttlMs", "pollIntervalMs"]) {
          expect(Number.isInteger(view[key]), key).toBe(true)
        }
        expect(view).toMatchObject({
          status: "working",
          createdAt: expect.any(String),
          lastUpdatedAt: expect.any(String)
        })
      }
      tasks.close()
    }))
  })

  it("a call that becomes a task after its session closed (it raced the end) is cancelled, and counts against nobody", () => {
    const gone = new ProtocolTasks(() => {})
    gone.close()
    const late = Array.from({ length: TOTAL }, () => pendingCall())
    for (const { call } of late) gone.create(call, false)
    expect(late.every(({ cancelled }) => cancelled.length === 1)).toBe(true)
    const fresh = new ProtocolTasks(() => {})
    expect(fresh.room()).toBeUndefined()
    fresh.close()
  })
})
