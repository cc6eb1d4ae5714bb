/** How the CLI tells a tool's errors apart: by the tag the answer carries, by the words where it has none. */
import { describe, expect, it } from "vitest"
import { isGone, loggedIn, notRunYet, wentWithSession } from "../../src/cli/answers.ts"

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
