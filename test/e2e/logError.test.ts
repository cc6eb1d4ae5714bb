/** A run whose log cannot be written says so in get_task's text, not only in its fields. */
import { execFileSync, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { expect, it } from "vitest"
import { connect, textOf, until } from "./client.ts"

it("get_task says in words that a run's log is not written, and why", async () => {
  // The log directory would be under a file: none can be made there. (A log directory that is a file is
  // refused at start: this one is made only at the first task's start.)
  const file = NodePath.join(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-logerror-")), "not-a-dir")
  writeFileSync(file, "")
  const s = await connect({ TASKMUX_LOG_DIR: NodePath.join(file, "logs") })
  try {
    await s.structured("start_task", { command: "echo hello; sleep 30", name: "quiet" })
    const text = await until(async () => {
      const got = await s.call("get_task", { name: "quiet" })
      return (got.structuredContent as { logError: string | null }).logError !== null ? textOf(got) : undefined
    })
    expect(text).toMatch(/Its log is not written \(.*(ENOTDIR|EEXIST).*\): only the lines held are kept\./)
  } finally {
    await s.client.close()
  }
})

/** Whether this machine can mount a file system of its own that fsfreeze can freeze (ext4 on a loop device). */
const canFreeze = () =>
  process.getuid?.() === 0 && ["mkfs.ext4", "fsfreeze", "losetup"].every((tool) =>
    spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0
  ) && spawnSync("losetup", ["-f"]).status === 0

it.skipIf(!canFreeze())(
  "a log disk that stops answering (a hung NFS mount, a frozen file system) holds neither a task's end nor other starts",
  async () => {
    const root = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-frozen-"))
    const logs = NodePath.join(root, "logs")
    mkdirSync(logs)
    execFileSync("truncate", ["-s", "32M", NodePath.join(root, "img")])
    execFileSync("mkfs.ext4", ["-q", NodePath.join(root, "img")])
    execFileSync("mount", ["-o", "loop", NodePath.join(root, "img"), logs])
    const s = await connect({ TASKMUX_LOG_DIR: logs })
    let frozen = false
    try {
      // Four tasks writing as the disk freezes: each holds a write (a thread of Node's four) until it thaws.
      for (const name of ["a", "b", "c", "d"]) {
        await s.structured("start_task", { command: "while :; do echo tick; sleep 0.01; done", name })
      }
      await s.structured("start_task", {
        command: "echo bye; sleep 1; exit 4",
        name: "short",
        waitFor: { pattern: "bye" }
      })
      execFileSync("fsfreeze", ["-f", logs])
      frozen = true
      // The run that ends by itself is seen to end; a stop answers; a new start (its cwd looked at) starts.
      const ended = await s.structured<{ status: string; exitCode: number }>("wait_for_task", {
        name: "short",
        exit: true,
        timeoutMs: 10_000
      })
      expect(ended).toMatchObject({ status: "crashed", exitCode: 4 })
      expect(await s.structured("stop_task", { name: "a" })).toMatchObject({ status: "stopped" })
      expect(await s.structured("start_task", { command: "sleep 30", name: "late" })).toMatchObject({
        status: "running"
      })
    } finally {
      if (frozen) execFileSync("fsfreeze", ["-u", logs])
      await s.client.close()
      spawnSync("umount", ["-l", logs])
      rmSync(root, { recursive: true, force: true })
    }
  },
  60_000
)
