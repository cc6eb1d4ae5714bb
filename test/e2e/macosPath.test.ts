/**
 * The server on macOS's code path (no /proc; lsof where it asks the kernel), on this Linux machine:
 * a preload makes `process.platform` say "darwin". What a port wait says when another program holds
 * the port must not depend on /proc: the answer names the holder, and comes as soon as the task has
 * gone to another port (a dev server left running, and Vite moving to the next port), not at the
 * timeout.
 */
import { spawn, spawnSync } from "node:child_process"
import * as NodePath from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { accepting, connect, type Connected, freePort, textOf, until } from "./client.ts"

const preload = NodePath.resolve(import.meta.dirname, "../fixtures/asMacos.mjs")
const hasLsof = spawnSync("lsof", ["-v"]).error === undefined

describe.runIf(process.platform === "linux" && hasLsof)("a port wait on macOS's code path (lsof, no /proc)", () => {
  let s: Connected
  beforeAll(async () => {
    s = await connect({ NODE_OPTIONS: `--import ${preload}` })
  })
  afterAll(async () => {
    await s.client.close()
  })

  it("names another program that holds the port, and answers once the task listens on another", async () => {
    const [taken, next] = [await freePort(), await freePort()]
    const holder = spawn("python3", ["-m", "http.server", String(taken), "--bind", "127.0.0.1"], {
      stdio: "ignore",
      detached: true
    })
    try {
      await until(() => accepting(taken))
      const moved = await s.call("start_task", {
        command: `python3 -m http.server ${next} --bind 127.0.0.1`,
        name: "moved",
        waitFor: { port: taken, timeoutMs: 20_000 }
      })
      const text = textOf(moved)
      expect(text).toMatch(
        new RegExp(
          `Port ${taken} is held by another program \\(pid ${holder.pid}: python3\\)\\. It listens on port ${next} instead\\.`
        )
      )
      // Once it has moved, not at the timeout.
      expect((moved.structuredContent as { timedOut: boolean }).timedOut).toBe(false)
      expect((moved.structuredContent as { elapsedMs: number }).elapsedMs).toBeLessThan(15_000)
      await s.structured("stop_task", { name: "moved" })
      // A task that waits on: what to do, not advice about its stdin.
      const waits = textOf(
        await s.call("start_task", { command: "sleep 30", name: "waits", waitFor: { port: taken, timeoutMs: 1_500 } })
      )
      expect(waits).toMatch(
        new RegExp(
          `Port ${taken} is held by another program \\(pid ${holder.pid}: python3\\)\\. Stop it, or give the task another port\\.`
        )
      )
      expect(waits).not.toMatch(/stdin/)
      await s.structured("stop_task", { name: "waits" })
    } finally {
      process.kill(-holder.pid!, "SIGKILL")
    }
  })

  it("names the task that holds the port as the task it is", async () => {
    const port = await freePort()
    await s.structured("start_task", {
      command: `python3 -m http.server ${port} --bind 127.0.0.1`,
      name: "first",
      waitFor: { port }
    })
    const second = textOf(
      await s.call("start_task", { command: "sleep 30", name: "second", waitFor: { port, timeoutMs: 1_500 } })
    )
    expect(second).toMatch(
      new RegExp(`Port ${port} is held by task "first" \\((?:pid|its process) \\d+\\)\\. Stop it, or give`)
    )
    await s.structured("stop_task", { name: "second" })
    await s.structured("stop_task", { name: "first" })
  })

  it("counts a server that a shell of the task put in a process group of its own as the task's", async () => {
    const port = await freePort()
    // Job control: the server is a job of its own group, below the task's shell.
    await s.structured("start_task", {
      command: `set -m; python3 -m http.server ${port} --bind 127.0.0.1 & wait`,
      name: "jobs"
    })
    await until(() => accepting(port))
    const waited = await s.call("wait_for_task", { name: "jobs", port, timeoutMs: 10_000 })
    expect(textOf(waited)).not.toMatch(/held by another program/)
    expect(waited.structuredContent).toMatchObject({ matched: true, port })
    await s.structured("stop_task", { name: "jobs" })
  })
})
