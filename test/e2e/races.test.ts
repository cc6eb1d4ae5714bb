/**
 * Issue 26 over real stdio: calls sent without waiting for the answers before them, as agents with
 * parallel tool calls send them. A stop sent during a start stops what the start started and says so;
 * a remove sent during a start leaves nothing running that no tool can reach.
 */
import { mkdtempSync, readdirSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { processesWithEnv } from "../helpers.ts"
import { textOf, withServer } from "./client.ts"

const processesWith = (token: string) => processesWithEnv("TM_RACE", token)

describe("calls sent at once", () => {
  it("stop_task sent right after start_task stops it: 40 pairs, each answered stopped, nothing left running", () =>
    withServer(async (s) => {
      const token = `stop-${process.pid}`
      const pairs = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
        const start = s.call("start_task", { command: "sleep 60", name: `r${i}`, env: { TM_RACE: token } })
        // Sent 0-4 ms after the start, without waiting for its answer.
        await new Promise((resolve) => setTimeout(resolve, i % 5))
        const stop = s.call("stop_task", { name: `r${i}` })
        return Promise.all([start, stop])
      }))
      for (const [start, stop] of pairs) {
        expect(start.isError).toBeFalsy()
        expect(stop.structuredContent).toMatchObject({ status: "stopped" })
      }
      const { tasks } = await s.structured<{ tasks: Array<{ status: string }> }>("list_tasks")
      expect(tasks.filter((t) => t.status === "running")).toEqual([])
      expect(processesWith(token)).toEqual([])
    }))

  it("remove_task sent during start_task leaves nothing running that no tool can reach: 30 pairs", () =>
    withServer(async (s) => {
      const token = `remove-${process.pid}`
      await Promise.all(Array.from({ length: 30 }, async (_, i) => {
        const start = s.call("start_task", { command: "sleep 60", name: `g${i}`, env: { TM_RACE: token } })
        await new Promise((resolve) => setTimeout(resolve, i % 5))
        const remove = s.call("remove_task", { name: `g${i}` })
        const [started, removed] = await Promise.all([start, remove])
        expect(started.isError).toBeFalsy()
        expect(removed.structuredContent).toEqual({ name: `g${i}`, removed: true })
      }))
      const { tasks } = await s.structured<{ tasks: Array<unknown> }>("list_tasks")
      expect(tasks).toEqual([])
      expect(processesWith(token)).toEqual([])
    }))

  it("remove_task { deleteLog } sent during start_task deletes that run's log too", async () => {
    const logs = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-race-logs-"))
    await withServer(async (s) => {
      await Promise.all(Array.from({ length: 10 }, async (_, i) => {
        const start = s.call("start_task", { command: "echo hi; sleep 60", name: `d${i}` })
        await new Promise((resolve) => setTimeout(resolve, i % 3))
        const removed = await s.call("remove_task", { name: `d${i}`, deleteLog: true })
        expect(removed.isError).toBeFalsy()
        await start
      }))
      expect(readdirSync(logs)).toEqual([])
    }, { TASKMUX_LOG_DIR: logs })
  })

  it("restart_task sent right after start_task is said as the restart it is, not as a crash its policy runs again", () =>
    withServer(async (s) => {
      const token = `restart-${process.pid}`
      const pairs = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
        const start = s.call("start_task", { command: "sleep 60", name: `e${i}`, env: { TM_RACE: token } })
        await new Promise((resolve) => setTimeout(resolve, 5 + i % 5))
        const restart = s.call("restart_task", { name: `e${i}` })
        return Promise.all([start, restart])
      }))
      for (const [start, restart] of pairs) {
        for (const answer of [start, restart]) {
          expect(answer.isError, textOf(answer)).toBeFalsy()
          expect(textOf(answer)).not.toMatch(/crashed|restart policy/)
        }
      }
      // Those whose start saw the restart say who ended the run (the restart's own answer may see none).
      const told = pairs.filter(([start]) => /ended this run at once, and it runs again/.test(textOf(start)))
      expect(told.length).toBeGreaterThan(0)
      for (const [start] of told) expect(textOf(start)).toMatch(/restart_task from taskmux-e2e ended this run at once/)
      await Promise.all(pairs.map((_, i) => s.call("stop_task", { name: `e${i}` })))
      expect(processesWith(token)).toEqual([])
    }, {
      // Each start looks for an immediate end long enough to see the restart sent 5-9 ms after it, on a
      // loaded machine too (by default it looks for 100 ms, and a busy CI runner may take longer).
      TASKMUX_EARLY_END_MS: "2000"
    }))

  it("a stop that a restart sent during its grace follows says the task runs again, with its pid", () =>
    withServer(async (s) => {
      const token = `stop-restart-${process.pid}`
      // Its shell ignores SIGTERM, so the stop waits out its grace, and the restart queues behind it.
      await s.call("start_task", {
        command: "trap '' TERM; while true; do sleep 0.2; done",
        name: "stubborn",
        env: { TM_RACE: token }
      })
      const stop = s.call("stop_task", { name: "stubborn", graceMs: 1500 })
      await new Promise((resolve) => setTimeout(resolve, 300))
      const restart = await s.call("restart_task", { name: "stubborn" })
      const stopped = await stop
      expect(restart.isError, textOf(restart)).toBeFalsy()
      expect(stopped.structuredContent).toMatchObject({ status: "stopped", signal: "SIGKILL" })
      expect(textOf(stopped)).toContain("It runs again now: a restart or start sent while this stop waited came next")
      await s.call("stop_task", { name: "stubborn", force: true })
      expect(processesWith(token)).toEqual([])
    }))

  it("a wait that times out after another call's restart says its last lines are the new run's", () =>
    withServer(async (s) => {
      await s.call("start_task", { command: "echo first run; sleep 60", name: "w" })
      const wait = s.call("wait_for_task", { name: "w", pattern: "never printed", timeoutMs: 2500 })
      await new Promise((resolve) => setTimeout(resolve, 500))
      await s.call("restart_task", { name: "w" })
      const waited = await wait
      expect(waited.structuredContent).toMatchObject({ timedOut: true, status: "running" })
      expect(textOf(waited)).toContain(
        "restart_task from taskmux-e2e ran it again during this wait: its last lines are run 2's."
      )
      await s.call("stop_task", { name: "w" })
    }))
})
