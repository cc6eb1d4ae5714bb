/**
 * A task's working directory on a mount that stops answering (a network share gone, a FUSE daemon stuck):
 * a FUSE mount (bindfs) whose daemon is stopped, so every look at it waits. Skipped where bindfs or FUSE
 * is not to be had.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { spawnSync } from "node:child_process"
import { mkdirSync } from "node:fs"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { RUN_LOGS_KEPT } from "../../src/supervisor/TaskActor.ts"
import { connect, tempDir, textOf, withServer } from "./client.ts"

const bindfsUsable = spawnSync("sh", ["-c", "command -v bindfs && test -e /dev/fuse"]).status === 0

/**
 * A bindfs mount of a fresh directory, and `body` run with it and with `hang`, which stops its daemon (every look
 * at the mount waits) until the body ends, or 30 s at most: a look that hangs would otherwise hold the test run.
 */
const withMount = async (body: (mount: string, source: string, hang: () => void) => Promise<void>) => {
  const source = tempDir({}, "taskmux-fuse-source-")
  const mount = tempDir({}, "taskmux-fuse-mount-")
  const mounted = spawnSync("bindfs", [source, mount])
  expect(mounted.status, String(mounted.stderr)).toBe(0)
  const daemon = Number(spawnSync("pgrep", ["-f", `bindfs ${source} ${mount}`], { encoding: "utf8" }).stdout.trim())
  expect(daemon).toBeGreaterThan(0)
  let timer: NodeJS.Timeout | undefined
  const hang = () => {
    process.kill(daemon, "SIGSTOP")
    timer = setTimeout(() => process.kill(daemon, "SIGCONT"), 30_000).unref()
  }
  try {
    await body(mount, source, hang)
  } finally {
    clearTimeout(timer)
    process.kill(daemon, "SIGCONT")
    spawnSync("fusermount", ["-u", mount])
    spawnSync("umount", ["-l", mount])
  }
}

describe("a working directory on a mount that hangs", () => {
  it.skipIf(!bindfsUsable)(
    "refuses the starts there within seconds, saying why, and every other start goes on",
    { timeout: 60_000 },
    () =>
      withMount(async (mount, source, hang) => {
        mkdirSync(NodePath.join(mount, "app"))
        await withServer(async (s) => {
          hang()
          // More than libuv's four threads: each would hold one for ever.
          const there = await Promise.all(
            Array.from(
              { length: 5 },
              (_, i) =>
                s.call("start_task", { command: "sleep 60", name: `hung${i}`, cwd: NodePath.join(mount, "app") })
            )
          )
          for (const answer of there) {
            expect(answer.isError).toBe(true)
            expect(textOf(answer)).toMatch(/does not answer \(nothing came back within 3 s: a network or FUSE mount/)
          }
          const elsewhere = await s.structured<{ status: string }>("start_task", {
            command: "echo fine",
            cwd: source,
            waitFor: { exit: true }
          })
          expect(elsewhere.status).toBe("exited")
        })
      })
  )

  it.skipIf(!bindfsUsable)(
    "a log directory there: get_task and the server answer, and a task's many runs do not use up the threads other starts need",
    { timeout: 120_000 },
    () =>
      withMount(async (mount, source, hang) => {
        const s = await connect({}, ["--log-dir", NodePath.join(mount, "logs")])
        try {
          await s.structured("start_task", { command: "echo hi; sleep 600", name: "t", cwd: source })
          hang()
          // Past FUSE's attribute cache (a second): looks at the log file now wait.
          await new Promise((resolve) => setTimeout(resolve, 1_500))
          const got = await s.client.callTool({ name: "get_task", arguments: { name: "t" } }, undefined, {
            timeout: 5_000
          }) as CallToolResult
          expect(got.isError, textOf(got)).toBeFalsy()
          await s.client.ping({ timeout: 2_000 })
          // Each run past those kept deletes the oldest log: in turn with the disk's other operations, not
          // one of libuv's four threads each.
          for (let i = 0; i < RUN_LOGS_KEPT + 3; i++) {
            const restarted = await s.client.callTool({ name: "restart_task", arguments: { name: "t" } }, undefined, {
              timeout: 30_000
            }) as CallToolResult
            expect(restarted.isError, textOf(restarted)).toBeFalsy()
          }
          const elsewhere = await s.structured<{ status: string }>("start_task", {
            command: "echo fine",
            cwd: source,
            waitFor: { exit: true }
          })
          expect(elsewhere.status).toBe("exited")
        } finally {
          await s.client.close()
        }
      })
  )
})
