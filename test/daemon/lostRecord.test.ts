import { mkdtempSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { LOST_KEPT, readLost } from "../../src/daemon/lostRecord.ts"

/** A task as a record holds it: what it must have, and a few of the rest (the others as if left out). */
const task = (name: string, status: string) => ({
  name,
  command: "sleep 60",
  commandLine: "sleep 60",
  cwd: "/tmp",
  startedAt: "2026-12-06T00:00:00.000Z",
  status,
  pid: 7,
  logFile: null,
  session: "s1"
})

const recordFile = (content: string) => {
  const file = NodePath.join(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-record-")), "tasks.json")
  writeFileSync(file, content)
  return file
}

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

  it("reads a record of another shape for what it can use: nothing from one that is not a record, the tasks that fit from one that is", () => {
    // What it could not read is said (the supervisor's log), not dropped without a word.
    const notJson = /^cannot be read \(.*JSON.*\): what ran before is not shown as lost$/
    const noRecord = /^holds no record of tasks: what ran before is not shown as lost$/
    const cases: Array<[string, RegExp | undefined]> = [
      ["", notJson],
      ["{", notJson],
      ["null", noRecord],
      ["5", noRecord],
      ["[]", noRecord],
      ["[null]", noRecord],
      ["{\"tasks\":5}", undefined],
      ["{\"supervisorPid\":1,\"tasks\":[null]}", /^holds 1 task of another shape \(unnamed\), not shown as lost$/]
    ]
    for (const [content, says] of cases) {
      const said: Array<string> = []
      expect(readLost(recordFile(content), (why) => said.push(why)), content).toEqual([])
      expect(said, content).toEqual(says === undefined ? [] : [expect.stringMatching(says)])
    }
    // Nothing is said of a record that is not there (a project's first supervisor).
    const none: Array<string> = []
    expect(readLost(NodePath.join(os.tmpdir(), "taskmux-no-such-record.json"), (why) => none.push(why))).toEqual([])
    expect(none).toEqual([])
    // One without its command (an older writer's) is dropped; one without what has a default gets it.
    const { commandLine: _, ...noCommandLine } = task("old", "running")
    const said: Array<string> = []
    const read = readLost(
      recordFile(JSON.stringify({
        supervisorPid: 42,
        tasks: [task("web", "running"), noCommandLine, { ...task("odd", "running"), status: "sleeping" }],
        lost: [{ name: "x" }, { ...task("db", "crashed"), reason: "lost before" }]
      })),
      (why) => said.push(why)
    )
    expect(said).toEqual(["holds 3 tasks of another shape (old, odd, x), not shown as lost"])
    expect(read.map((t) => t.name)).toEqual(["db", "web"])
    expect(read[1]).toMatchObject({
      args: null,
      env: {},
      notifyOnExit: true,
      policy: { policy: "no" },
      terminal: null,
      client: null,
      since: "2026-12-06T00:00:00.000Z",
      exitCode: null,
      endedAt: null
    })
  })
})
