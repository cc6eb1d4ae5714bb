/**
 * What a long-lived server keeps: V8's young generation stays the size it had once started, however many
 * tasks start at once, in the server alone and in a project's supervisor. By default it doubles, up to
 * 16 MiB a half here (64 on a big machine), and keeps it: several MB of RSS for the process's life.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { connectIfRunning } from "../../src/daemon/connect.ts"
import { runtimePaths } from "../../src/daemon/runtimePaths.ts"
import { connect, type Connected, until } from "./client.ts"

const preload = NodePath.resolve(import.meta.dirname, "../fixtures/heapReport.mjs")
const tempDir = (prefix: string) => mkdtempSync(NodePath.join(os.tmpdir(), prefix))

/**
 * The young generation's size before and after a burst of 100 starts, in the process that runs the tasks
 * (`holder`: the server, or the supervisor behind it), started with `nodeOptions`.
 */
const youngAroundBurst = async (
  nodeOptions: string,
  env: Record<string, string> = {},
  holder = async (s: Connected) => s.pid
) => {
  const report = NodePath.join(tempDir("taskmux-heap-"), "report.json")
  const s = await connect({
    NODE_OPTIONS: `--import=${preload} ${nodeOptions}`,
    HEAP_REPORT: report,
    TASKMUX_MAX_TASKS: "100",
    ...env
  })
  const young = async () => {
    rmSync(report, { force: true })
    process.kill(await holder(s), "SIGUSR2")
    await until(() => existsSync(report) && readFileSync(report, "utf8") !== "" ? true : undefined)
    return (JSON.parse(readFileSync(report, "utf8")) as { readonly size: number }).size
  }
  try {
    await s.structured("list_tasks")
    const before = await young()
    await Promise.all(
      Array.from(
        { length: 100 },
        (_, i) => s.structured("start_task", { command: "sleep 60", name: `s${i}`, notifyOnExit: false })
      )
    )
    await s.structured("list_tasks")
    return { before, after: await young() }
  } finally {
    await s.client.close()
  }
}

describe("memory", () => {
  it("a burst of 100 starts leaves the server's young generation the size it was", async () => {
    const young = await youngAroundBurst("")
    // Not larger (V8 may still shrink it when it is idle).
    expect(young.after).toBeLessThanOrEqual(young.before)
  }, 60_000)

  it("and the supervisor's", async () => {
    const runtime = tempDir("taskmux-rt-")
    const project = tempDir("taskmux-proj-")
    const supervisorPid = async () => {
      const connection = await connectIfRunning(runtimePaths(project, { XDG_RUNTIME_DIR: runtime }), "cli")
      connection?.socket.destroy()
      return connection!.welcome.pid
    }
    const young = await youngAroundBurst(
      "",
      { XDG_RUNTIME_DIR: runtime, TASKMUX_PROJECT: project, TASKMUX_ISOLATED: "false", TASKMUX_LINGER_MS: "300" },
      supervisorPid
    )
    expect(young.after).toBeLessThanOrEqual(young.before)
  }, 60_000)

  it("a size chosen in NODE_OPTIONS is left as chosen", async () => {
    // Room to grow, and the default growth: the same burst grows it.
    const young = await youngAroundBurst("--max-semi-space-size=16")
    expect(young.after).toBeGreaterThan(young.before)
  }, 60_000)
})

describe("what tasks that ended hold", () => {
  /** What get_task says it holds, and what a read of its whole buffer says. */
  const held = async (s: Connected, name: string) => {
    const info = await s.structured<{ lines: number; droppedLines: number }>("get_task", { name })
    return info.lines
  }

  it(
    "past sixteen rings in all, an older finished task keeps its last lines only, the latest all of theirs; a new run holds all again",
    async () => {
      // Rings of 64 KiB: sixteen of them is 1 MiB, and an older task keeps its last 200 lines (1 KiB at most).
      const s = await connect({ TASKMUX_BUFFER_BYTES: "65536" })
      try {
        // 2,000 lines of 60 bytes each: a full ring (about 1,080 lines) for each of 20 runs.
        const print = "python3 -c \"import sys\nfor i in range(2000): sys.stdout.write('%05d %s\\n' % (i, 'x' * 53))\""
        for (let i = 0; i < 20; i++) {
          await s.structured("start_task", { command: print, name: `build-${i}`, waitFor: { exit: true } })
        }
        const full = await held(s, "build-19")
        expect(full).toBeGreaterThan(1_000)
        // The four that ended first: settled as the later ones ended.
        await until(async () => (await held(s, "build-0")) < 100 ? true : undefined)
        for (let i = 0; i < 4; i++) expect(await held(s, `build-${i}`)).toBeLessThan(100)
        for (let i = 5; i < 20; i++) expect(await held(s, `build-${i}`)).toBe(full)
        // What is left is its last lines, and a read from the start says the rest was dropped.
        const read = await s.call("read_output", { name: "build-0", since: 0 })
        const page = read.structuredContent as { lines: Array<{ text: string }>; dropped: number }
        expect(page.lines.at(-1)?.text).toBe(`01999 ${"x".repeat(53)}`)
        expect(page.dropped).toBe(2_000 - page.lines.length)
        expect(JSON.stringify(read.content)).toContain(
          `${page.dropped} lines dropped before being read (get_task's logFile has them)`
        )
        // Run again, it holds a whole ring.
        await s.structured("restart_task", { name: "build-0" })
        await s.structured("wait_for_task", { name: "build-0", exit: true, since: 0 })
        expect(await held(s, "build-0")).toBe(full)
      } finally {
        await s.client.close()
      }
    },
    120_000
  )
})
