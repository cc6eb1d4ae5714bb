import { describe, expect, it } from "vitest"
import type { ListedTask } from "../../src/cli/answers.ts"
import { duration, psTable, statusText } from "../../src/cli/psTable.ts"
import { plain, visibleLength } from "../../src/cli/style.ts"

const now = Date.parse("2026-01-01T12:00:00Z")
const task = (patch: Partial<ListedTask>): ListedTask => ({
  name: "web",
  pid: 100,
  status: "running",
  exitCode: null,
  signal: null,
  command: "npm run dev",
  startedAt: "2026-01-01T11:58:55Z",
  endedAt: null,
  ports: [5173],
  memoryBytes: 48e6,
  ...patch
})

describe("psTable", () => {
  it("shows each task's status, pid, uptime, ports, memory and command", () => {
    const table = psTable([
      task({}),
      task({
        name: "build",
        status: "crashed",
        exitCode: 2,
        pid: 7,
        endedAt: "2026-01-01T11:59:30Z",
        ports: null,
        memoryBytes: null,
        command: "tsc\n  -b"
      }),
      task({ name: "db", status: "defined", pid: null, startedAt: null, ports: null, memoryBytes: null })
    ], { style: plain, columns: undefined, now })
    expect(table).toBe(
      [
        "NAME   STATUS     PID  UPTIME   PORTS  MEM    COMMAND",
        "web    running    100  1m05s    5173   48 MB  npm run dev",
        "build  crashed 2  7    30s ago  -      -      tsc -b",
        "db     defined    -    -        -      -      npm run dev",
        ""
      ].join("\n")
    )
  })

  it("shows ? for what a running task's system cannot tell (no /proc), - for none", () => {
    const table = psTable(
      [task({ ports: null, memoryBytes: null }), task({ name: "idle", ports: [], memoryBytes: 0 })],
      {
        style: plain,
        columns: undefined,
        now
      }
    )
    expect(table.split("\n").slice(1, 3)).toEqual([
      "web   running  100  1m05s   ?      ?    npm run dev",
      "idle  running  100  1m05s   -      -    npm run dev"
    ])
  })

  it("says below the table why each lost task is lost (and what runs it again), and why each failed one failed", () => {
    const reason = "the supervisor (pid 41) ended while it ran as pid 42; nothing restarted it. Its output: /l/web.log"
    const failed = task({
      name: "bad",
      status: "failed",
      pid: null,
      reason: "Working directory \"/x\" does not exist."
    })
    const table = psTable([task({ status: "lost", pid: null, reason }), task({ name: "api" }), failed], {
      style: plain,
      columns: 60,
      now
    })
    expect(table.trimEnd().split("\n").slice(-3)).toEqual([
      "",
      `web is lost: ${reason} (\`taskmux start web\` runs it again)`,
      "bad failed: Working directory \"/x\" does not exist."
    ])
  })

  it("has an owner column once the supervisor says whose tasks are", () => {
    const table = psTable([task({ owner: "kept" }), task({ name: "api" })], { style: plain, columns: undefined, now })
    expect(table.split("\n")[0]).toBe("NAME  STATUS   PID  OWNER  UPTIME  PORTS  MEM    COMMAND")
    expect(table.split("\n")[1]).toContain("  kept   ")
    expect(table.split("\n")[2]).toContain("  -      ")
  })

  it("cuts the command to the terminal's width, counting only visible characters", () => {
    const long = task({ command: `node ${"x".repeat(200)}` })
    for (const style of [plain]) {
      const rows = psTable([long], { style, columns: 80, now }).trimEnd().split("\n")
      for (const row of rows) expect(visibleLength(row)).toBeLessThanOrEqual(80)
      expect(rows[1]!.endsWith("…")).toBe(true)
    }
  })

  it("names ends and durations briefly", () => {
    expect(statusText({ status: "crashed", exitCode: null, signal: "SIGKILL" })).toBe("crashed SIGKILL")
    expect(statusText({ status: "exited", exitCode: 0, signal: null })).toBe("exited 0")
    expect(statusText({ status: "running", exitCode: null, signal: null, paused: true })).toBe("paused")
    expect(statusText({ status: "stopped", exitCode: null, signal: "SIGTERM" })).toBe("stopped")
    expect([42e3, 185e3, 2 * 3600e3 + 7 * 60e3, 3 * 86400e3 + 4 * 3600e3].map(duration)).toEqual([
      "42s",
      "3m05s",
      "2h07m",
      "3d04h"
    ])
  })
})
