// Boundaries a mutation-testing review (h23b) found unguarded: each test fails with its guard changed.
import { mkdtempSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { lostListed, readLost } from "../../src/daemon/lostRecord.ts"

const task = (name: string, status: string, session: string | null, extra = {}) => ({
  name,
  command: "x",
  commandLine: "x",
  cwd: "/tmp",
  startedAt: "2026-12-06T00:00:00.000Z",
  status,
  pid: status === "running" ? 7 : null,
  exitCode: status === "crashed" ? 1 : status === "exited" ? 0 : null,
  endedAt: status === "running" ? null : "2026-12-06T00:01:00.000Z",
  logFile: null,
  session,
  ...extra
})

describe("the record of a crashed supervisor", () => {
  it("lost: what ran; remembered: kept tasks that ended by themselves, once; forgotten: a session's ended tasks and stops", () => {
    // lr02 (session === null), lr03 (not twice), lr04 (only unfinished are lost), lr07 (not a stop)
    const file = NodePath.join(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-record-")), "tasks.json")
    const tasks = [
      task("web", "running", "s1"),
      task("build", "crashed", null),
      task("seed", "exited", "s1"),
      task("db", "stopped", null),
      task("again", "exited", null)
    ]
    const lost = [{ ...task("again", "exited", null), reason: "it exited before" }]
    writeFileSync(file, JSON.stringify({ supervisorPid: 42, tasks, lost }))
    const read = readLost(file)
    expect(read.map((t) => `${t.name} ${t.status}`)).toEqual(["again exited", "build crashed", "web running"])
    // ps with no supervisor: an ended kept task shows how it ended, a lost one as lost.
    expect(read.map((t) => lostListed(t).status)).toEqual(["exited", "crashed", "lost"])
    expect(lostListed(read[1]!).exitCode).toBe(1)
  })
})
