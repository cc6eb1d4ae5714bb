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
