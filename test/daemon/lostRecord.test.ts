import { mkdtempSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { LOST_KEPT, readLost } from "../../src/daemon/lostRecord.ts"

const task = (name: string, status: string) => ({ name, status, pid: 7, logFile: null, session: "s1" })

describe("the record of lost tasks", () => {
  it("remembers the newest lost tasks only: each crash of a supervisor adds its tasks", () => {
    const file = NodePath.join(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-record-")), "tasks.json")
    const lost = Array.from({ length: 100 }, (_, i) => ({ ...task(`old${i}`, "running"), reason: "lost before" }))
    const tasks = [task("web", "running"), task("db", "running")]
    writeFileSync(file, JSON.stringify({ supervisorPid: 42, tasks, lost }))
    const read = readLost(file)
    expect(read).toHaveLength(LOST_KEPT)
    expect(read.slice(-3).map((t) => t.name)).toEqual(["old99", "web", "db"])
    expect(read.at(-1)!.reason).toMatch(/the supervisor \(pid 42\) ended while it ran as pid 7/)
  })

  it("keeps every task the last crash lost, however many, and none of those before past the cap", () => {
    const file = NodePath.join(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-record-")), "tasks.json")
    const lost = [{ ...task("old", "running"), reason: "lost before" }]
    const tasks = Array.from({ length: LOST_KEPT + 6 }, (_, i) => task(`t${i}`, "running"))
    writeFileSync(file, JSON.stringify({ supervisorPid: 42, tasks, lost }))
    expect(readLost(file).map((t) => t.name)).toEqual(tasks.map((t) => t.name))
  })

  it("says a task waiting to run again, or not started yet, was not running when its supervisor died", () => {
    const file = NodePath.join(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-record-")), "tasks.json")
    const tasks = [task("flaky", "restarting"), { ...task("web", "running"), pid: null }]
    writeFileSync(file, JSON.stringify({ supervisorPid: 42, tasks, lost: [] }))
    expect(readLost(file).map((t) => t.reason)).toEqual([
      "the supervisor (pid 42) ended while it waited to run again (its restart policy); nothing restarted it",
      "the supervisor (pid 42) ended before it had started; nothing restarted it"
    ])
  })
})
