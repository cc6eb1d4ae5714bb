/**
 * A task's working directory on a mount that stops answering (a network share gone, a FUSE daemon stuck):
 * a FUSE mount (bindfs) whose daemon is stopped, so every look at it waits. Skipped where bindfs or FUSE
 * is not to be had.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync } from "node:fs"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { tempDir, textOf, withServer } from "./client.ts"

const bindfsUsable = spawnSync("sh", ["-c", "command -v bindfs && test -e /dev/fuse"]).status === 0

describe("a working directory on a mount that hangs", () => {
  it.skipIf(!bindfsUsable)(
    "refuses the starts there within seconds, saying why, and every other start goes on",
    { timeout: 60_000 },
    async () => {
      const source = tempDir({}, "taskmux-fuse-source-")
      const mount = tempDir({}, "taskmux-fuse-mount-")
      const mounted = spawnSync("bindfs", [source, mount])
      if (mounted.status !== 0) return
      mkdirSync(NodePath.join(mount, "app"))
      const daemon = Number(spawnSync("pgrep", ["-f", `bindfs ${source} ${mount}`], { encoding: "utf8" }).stdout.trim())
      expect(daemon).toBeGreaterThan(0)
      try {
        await withServer(async (s) => {
          process.kill(daemon, "SIGSTOP")
          // Whatever this test does, the mount answers again in 20 s: a look at it that hangs (its own
          // teardown's) would otherwise hold the test run for good.
          setTimeout(() => process.kill(daemon, "SIGCONT"), 20_000).unref()
          try {
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
          } finally {
            process.kill(daemon, "SIGCONT")
          }
        })
      } finally {
        spawnSync("fusermount", ["-u", mount])
        spawnSync("umount", ["-l", mount])
      }
    }
  )
})
