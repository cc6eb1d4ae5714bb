/** How the CLI tells a tool's errors apart: by the tag the answer carries, by the words where it has none. */
import { describe, expect, it } from "vitest"
import {
  endFailure,
  goneText,
  isGone,
  loggedIn,
  notRunYet,
  runFailure,
  wentWithSession
} from "../../src/cli/answers.ts"

describe("a tool's error, as the CLI reads it", () => {
  it("goes by its tag, whatever its words say", () => {
    const reworded = { message: "Nothing is called web here.", tag: "TaskNotFound" }
    expect(isGone(reworded)).toBe(true)
    expect(notRunYet({ message: "…", tag: "ProjectTaskNotRun" })).toBe(true)
    expect(isGone({ message: "…", tag: "ProjectTaskNotRun" })).toBe(true)
    expect(wentWithSession({ message: "…", tag: "TaskWentWithSession", logFile: "/l/web-1.log" })).toBe(true)
    expect(loggedIn({ message: "…", tag: "TaskWentWithSession", logFile: "/l/web-1.log" })).toBe("/l/web-1.log")
    // Words that would match, under another tag, do not.
    expect(isGone({ message: "No task named \"x\". Known tasks: a.", tag: "CommandRefused" })).toBe(false)
  })

  it("goes by its words from a supervisor of an earlier build, which sends no tag", () => {
    expect(isGone({ message: "No task named \"web\". Known tasks: db." })).toBe(true)
    expect(notRunYet({ message: "Task \"web\" is a project task that has not run yet (list_tasks …" })).toBe(true)
    const gone = "Task \"api\" ran under a session that has ended: x. … Its output: /l/api-2.log. more"
    expect(wentWithSession({ message: gone })).toBe(true)
    expect(loggedIn({ message: gone })).toBe("/l/api-2.log")
  })
})

describe("how a follow says its task went", () => {
  it("names who removed it and when, where the tools said so; else what it may have been", () => {
    const removed = {
      message: "Task \"web\" was removed by `taskmux remove web` from taskmux-cli at 2026-12-07T20:53:11.123Z. " +
        "Its output: /l/web-1.log. It ran: \"sleep 9\"; start_task …",
      tag: "TaskWasRemoved"
    }
    expect(goneText("web", removed)).toBe(
      "web was removed by `taskmux remove web` from taskmux-cli at 2026-12-07T20:53:11.123Z"
    )
    expect(goneText("web", { message: "…", tag: "TaskWentWithSession" })).toBe(
      "web went with the session it belonged to"
    )
    expect(goneText("web", { message: "No task named \"web\".", tag: "TaskNotFound" })).toBe(
      "web was removed: by remove_task, or with the session it belonged to"
    )
  })
})

describe("when start, restart and stop exit 1 after their answer", () => {
  it("a run that crashed, could not start, was not ready in time, or will not be ready", () => {
    expect(runFailure({ status: "running" }, "web")).toBeUndefined()
    expect(runFailure({ status: "running", matched: true }, "web")).toBeUndefined()
    expect(runFailure({ status: "crashed" }, "web")).toBe("\"web\" crashed")
    expect(runFailure({ status: "failed" }, "web")).toBe("\"web\" could not start")
    expect(runFailure({ status: "running", timedOut: true }, "db")).toMatch(/^"db" was not ready in time/)
    // Timed out, but ended meanwhile (exited): not "keeps running".
    expect(runFailure({ status: "exited", timedOut: true }, "db")).toBeUndefined()
    expect(runFailure({ status: "running", matched: false }, "web")).toMatch(/listens on another port/)
    expect(runFailure({ status: "exited", matched: false }, "web")).toBe("\"web\" ended before it was ready")
  })
})

describe("taskmux wait --exit's exit code", () => {
  it("is 0 only for a run that exited 0 in time", () => {
    expect(endFailure({ status: "exited", exitCode: 0, signal: null }, "build")).toBeUndefined()
    expect(endFailure({ status: "running", timedOut: true }, "build")).toBe(
      "\"build\" did not end in time; it keeps running"
    )
    expect(endFailure({ status: "crashed", exitCode: 2, signal: null }, "build")).toBe(
      "\"build\" ended: crashed, exit code 2"
    )
    expect(endFailure({ status: "stopped", exitCode: null, signal: "SIGTERM" }, "build")).toMatch(/^"build" ended: /)
    expect(endFailure({}, "build")).toBe("\"build\" ended: how, unknown")
  })
})
