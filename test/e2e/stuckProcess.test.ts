/**
 * A task whose processes the kernel will not let die yet (a read from a hung NFS or FUSE mount, a core dump
 * being written): SIGKILL stays pending until the kernel lets go. The cgroup v1 freezer stands in for it
 * here, as a frozen process takes its SIGKILL only once thawed. Skipped where there is no freezer to use.
 */
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { processesWithEnv } from "../helpers.ts"
import { textOf, until, withServer } from "./client.ts"

const FREEZER = "/sys/fs/cgroup/freezer"

const freezerUsable = (() => {
  if (!existsSync(FREEZER)) return false
  const probe = `${FREEZER}/taskmux-probe-${process.pid}`
  try {
    mkdirSync(probe)
    rmdirSync(probe)
    return true
  } catch {
    return false
  }
})()

/** A freezer group of `pids`, frozen until `thaw`, then removed once empty. */
const frozen = (pids: ReadonlyArray<number>, tag: string) => {
  const group = `${FREEZER}/taskmux-test-${process.pid}-${tag}`
  mkdirSync(group)
  for (const pid of pids) writeFileSync(`${group}/cgroup.procs`, String(pid))
  writeFileSync(`${group}/freezer.state`, "FROZEN")
  return {
    thaw: () => writeFileSync(`${group}/freezer.state`, "THAWED"),
    removed: () =>
      until(() => {
        try {
          rmdirSync(group)
          return true
        } catch {
          return undefined
        }
      }, 5_000)
  }
}

describe("a task stuck in the kernel", () => {
  it.skipIf(!freezerUsable)(
    "a stop whose main process ends but not all it started says which did not end after SIGKILL, not a clean stop",
    { timeout: 60_000 },
    () =>
      withServer(async (s) => {
        const token = `stuck-child-${process.pid}`
        const { pid } = await s.structured<{ pid: number }>("start_task", {
          command: "sleep 3000 & echo ready; wait",
          name: "child",
          env: { TM_STUCK: token },
          waitFor: { pattern: "ready" }
        })
        const children = processesWithEnv("TM_STUCK", token).filter((p) => p !== pid)
        expect(children.length).toBeGreaterThanOrEqual(1)
        const freezer = frozen(children, "child")
        try {
          const stopped = await s.call("stop_task", { name: "child", graceMs: 500 })
          expect(stopped.structuredContent).toMatchObject({ status: "stopped" })
          expect((stopped.structuredContent as { hint?: string }).hint).toMatch(
            new RegExp(
              `Not all gone: a process it started did not end after SIGKILL \\(pid ${
                children[0]
              } \\(sleep 3000\\)\\): it is stuck in the kernel`
            )
          )
          const info = await s.structured<{ error: string | null }>("get_task", { name: "child" })
          expect(info.error).toMatch(/did not end after SIGKILL/)
        } finally {
          freezer.thaw()
        }
        await until(() => processesWithEnv("TM_STUCK", token).length === 0 ? true : undefined, 5_000)
        await freezer.removed()
      })
  )

  it.skipIf(!freezerUsable)(
    "a stop answers once SIGKILL is sent and waited for, a SIGKILL sent meanwhile answers at once, and nothing is left once the kernel lets go",
    { timeout: 60_000 },
    () =>
      withServer(async (s) => {
        const token = `stuck-${process.pid}`
        await s.structured("start_task", {
          command: "sleep 3000 & echo ready; wait",
          name: "stuck",
          env: { TM_STUCK: token },
          waitFor: { pattern: "ready" }
        })
        const pids = processesWithEnv("TM_STUCK", token)
        expect(pids.length).toBeGreaterThanOrEqual(2)
        const freezer = frozen(pids, "all")
        try {
          const stop = s.call("stop_task", { name: "stuck", graceMs: 500 })
          await new Promise((resolve) => setTimeout(resolve, 1_000))
          // Not queued behind the stop (which waits for a leader that cannot go yet): it reaches the run now.
          const kill = await s.call("signal_task", { name: "stuck", signal: "SIGKILL" })
          expect(kill.isError, textOf(kill)).toBeFalsy()
          const stopped = await stop
          expect(stopped.structuredContent).toMatchObject({ status: "stopped", signal: "SIGKILL" })
          const info = await s.structured<{ error: string | null }>("get_task", { name: "stuck" })
          expect(info.error).toMatch(/did not end after SIGKILL: it is stuck in the kernel/)
          // Other tasks start and end meanwhile.
          const other = await s.structured<{ status: string }>("start_task", {
            command: "echo other",
            waitFor: { exit: true }
          })
          expect(other.status).toBe("exited")
        } finally {
          freezer.thaw()
        }
        // Its SIGKILL was pending: once thawed, nothing of it is left.
        await until(() => processesWithEnv("TM_STUCK", token).length === 0 ? true : undefined, 5_000)
        await freezer.removed()
      })
  )
})
