import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { ListedTask } from "../../src/cli/answers.ts"
import { duration, psTable, statusText } from "../../src/cli/psTable.ts"
import { plain, visibleLength } from "../../src/cli/style.ts"
import { fitColumns, visibleControls } from "../../src/cli/terminalText.ts"
import { columnsOf } from "../../src/domain/columns.ts"

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

describe("what ps shows of a command", () => {
  it("shows its escapes and controls, not obeys them: no colour, title or redraw from a command", () => {
    const table = psTable(
      [
        task({ command: "echo '\x1b[31mred\x1b[0m' ; sleep 600 # \x1b]0;pwned\x07 title\r\x1b[2K", client: "a\x1bb" }),
        task({ name: "after", command: "sleep 601", owner: "kept" })
      ],
      { style: plain, columns: 90, now }
    )
    // eslint-disable-next-line no-control-regex
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
    expect(table.split("\n")[1]).toContain("echo '^[[31mred")
    // Every row fits the terminal, and the next one is a row of its own.
    for (const row of table.trimEnd().split("\n")) expect(visibleLength(row)).toBeLessThanOrEqual(90)
    expect(table.split("\n")[2]).toMatch(/^after /)
  })

  it("keeps a client's long name to 20 columns in OWNER, leaving the command its room", () => {
    const table = psTable([task({ command: "python3 -m http.server 8000", owner: "other", client: "c".repeat(60) })], {
      style: plain,
      columns: 100,
      now
    })
    const row = table.split("\n")[1]!
    expect(row).toContain(`(${"c".repeat(19)}…)`)
    expect(row).toContain("python3 -m http.server 8000")
  })

  it("cuts wide characters and emoji by the columns they take, never into halves", () => {
    const table = psTable(
      [task({ command: `echo ${"中文".repeat(30)}` }), task({ name: "party", command: `echo ${"🎉".repeat(40)}` })],
      { style: plain, columns: 70, now }
    )
    for (const row of table.trimEnd().split("\n")) {
      expect(visibleLength(row)).toBeLessThanOrEqual(70)
      expect(row).not.toContain("\ufffd")
    }
    expect(table).toMatch(/中文…\n/)
  })
})

describe("terminal text", () => {
  it("fits any text in its columns: a prefix of it, whole characters, within the room", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), fc.integer({ min: 2, max: 30 }), (text, room) => {
        const fitted = fitColumns(text, room)
        expect(columnsOf(fitted)).toBeLessThanOrEqual(Math.max(room, columnsOf(text) <= room ? columnsOf(text) : 0))
        expect(text.startsWith(fitted.endsWith("…") && fitted !== text ? fitted.slice(0, -1) : fitted)).toBe(true)
        // No half of a surrogate pair.
        expect(fitted).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/)
      })
    )
  })

  it("leaves no control character in what it shows", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 60 }), (text) => {
      // eslint-disable-next-line no-control-regex
      expect(visibleControls(text)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
    }))
    expect(visibleControls("a\x1b[31mb\x07\x7f\x9b")).toBe("a^[[31mb^G^?M-^[")
  })
})
