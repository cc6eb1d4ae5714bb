/** What the registry remembers of names it no longer holds: bounded, newest kept, forgotten once a name is taken. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { LogFile } from "../../src/output/LogFile.ts"
import { OutputBuffer } from "../../src/output/OutputBuffer.ts"
import { type GoneTask, goneTask, logStopsShort, makeGoneTasks } from "../../src/supervisor/GoneTasks.ts"
import { defaultPolicy } from "../../src/supervisor/RestartPolicy.ts"
import { freshState, type TaskState } from "../../src/supervisor/TaskState.ts"

const state = (name: string, end: Partial<TaskState> = {}): TaskState => ({
  ...freshState(name, {
    command: "sleep 9",
    args: null,
    commandLine: "sleep 9",
    cwd: "/",
    env: {},
    baseEnv: {},
    notifyOnExit: true,
    policy: defaultPolicy,
    terminal: null,
    session: "s1",
    client: "cursor",
    since: new Date(0).toISOString()
  }, new OutputBuffer({ maxLines: 10, maxBytes: 1024, maxLineBytes: 256 })),
  status: "stopped",
  endedAt: "2026-12-07T00:00:00.000Z",
  ...end
})

const gone = (name: string): GoneTask => ({ ...goneTask(state(name), true, "its session ended", null) })

describe("GoneTasks", () => {
  it("keeps the newest `max` of each, the oldest forgotten first, a name remembered again counted as new", () =>
    fc.assert(fc.property(fc.array(fc.constantFrom("a", "b", "c", "d", "e", "f"), { maxLength: 40 }), (names) => {
      const past = makeGoneTasks(3)
      for (const name of names) {
        past.remember(gone(name))
        past.removedNow({ name, by: "remove_task", at: "", commandLine: "", logFile: null })
      }
      const newest = [...new Set([...names].reverse())].slice(0, 3).reverse()
      expect(past.goneTasks().map((t) => t.name)).toEqual(newest)
      for (const name of names) expect(past.removed(name) !== undefined).toBe(newest.includes(name))
    })))

  it("forgets a name once a new task takes it, and recalls only names no task holds", () => {
    const past = makeGoneTasks()
    past.remember(gone("web"))
    past.removedNow({ name: "web", by: "remove_task", at: "", commandLine: "", logFile: null })
    past.taken("web")
    expect([past.gone("web"), past.removed("web")]).toEqual([undefined, undefined])
    past.recall([gone("web"), gone("db")], (name) => name === "web")
    expect(past.goneTasks().map((t) => t.name)).toEqual(["db"])
    expect(past.forgetGone("db")?.name).toBe("db")
    expect(past.goneTasks()).toEqual([])
  })

  it("says how it ended and whether its log stops short", () => {
    const stopped = goneTask(state("web"), true, "its session (cursor) ended", null)
    expect(stopped.reason).toBe("it was stopped when its session (cursor) ended, at 2026-12-07T00:00:00.000Z")
    const log = { path: "/logs/test.log" } as LogFile
    const ended = goneTask(state("test", { status: "crashed", exitCode: 1, log }), false, "its session ended", "ENOSPC")
    expect(ended.reason).toBe(
      "it crashed, exit code 1 at 2026-12-07T00:00:00.000Z, and then its session ended. Its output: /logs/test.log " +
        "(which stops short, the disk refused the rest: ENOSPC)"
    )
    expect([logStopsShort(ended), logStopsShort(stopped)]).toEqual([true, false])
  })
})
