/**
 * What a long-lived server keeps: V8's young generation stays at its starting size however many tasks
 * start at once (by default it doubles up to 16 MB and keeps it: about 10 MB of RSS for the server's life).
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { connect, until } from "./client.ts"

const preload = NodePath.resolve(import.meta.dirname, "../fixtures/heapReport.mjs")
const MB = 1024 * 1024

/** The young generation's size after a burst of 100 starts, in a server started with `nodeOptions`. */
const youngAfterBurst = async (nodeOptions: string) => {
  const report = NodePath.join(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-heap-")), "report.json")
  const s = await connect({
    NODE_OPTIONS: `--import=${preload} ${nodeOptions}`,
    HEAP_REPORT: report,
    TASKMUX_MAX_TASKS: "100"
  })
  try {
    await Promise.all(
      Array.from(
        { length: 100 },
        (_, i) => s.structured("start_task", { command: "sleep 60", name: `s${i}`, notifyOnExit: false })
      )
    )
    await s.structured("list_tasks")
    process.kill(s.pid, "SIGUSR2")
    await until(() => existsSync(report) && readFileSync(report, "utf8") !== "" ? true : undefined)
    return JSON.parse(readFileSync(report, "utf8")) as { readonly size: number; readonly physical: number }
  } finally {
    await s.client.close()
  }
}

describe("memory", () => {
  it("a burst of 100 starts leaves the young generation at its starting size", async () => {
    const young = await youngAfterBurst("")
    expect(young.size).toBeLessThanOrEqual(4.5 * MB)
  }, 60_000)

  it("a size chosen in NODE_OPTIONS is left as chosen", async () => {
    // Room to grow, and the default growth: the same burst grows it past what the test above allows.
    const young = await youngAfterBurst("--max-semi-space-size=16")
    expect(young.size).toBeGreaterThan(4.5 * MB)
  }, 60_000)
})
