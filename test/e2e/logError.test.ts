/** A run whose log cannot be written says so in get_task's text, not only in its fields. */
import { mkdtempSync, writeFileSync } from "node:fs"
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
