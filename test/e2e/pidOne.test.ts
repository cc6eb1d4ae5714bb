/**
 * taskmux as PID 1 of a PID namespace, as a container's entrypoint makes it (`docker run IMAGE taskmux`):
 * it serves alone (a supervisor would end with the namespace, its tasks killed without their grace) and
 * says what that costs (orphans it cannot reap) and what to do (--init).
 */
import { mkdtempSync, readdirSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { canMount } from "../helpers.ts"
import { connect, textOf } from "./client.ts"

describe.runIf(canMount())("taskmux as PID 1", () => {
  it("serves alone, as a client configured for the shared supervisor asks, and says why and what to do", async () => {
    const runtime = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-pid1-rt-"))
    const project = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-pid1-"))
    const s = await connect(
      { XDG_RUNTIME_DIR: runtime, TASKMUX_PROJECT: project, TASKMUX_ISOLATED: "false" },
      [],
      undefined,
      project,
      ["unshare", "--pid", "--fork", "--mount-proc"]
    )
    try {
      const said = /taskmux runs as PID 1 .* it serves this session alone.*never reaped.*--init/s
      expect(s.stderr()).toMatch(said)
      expect(s.client.getInstructions()).toMatch(said)
      const started = await s.call("start_task", { command: "sleep 300", name: "web", keep: true })
      expect(textOf(started)).toMatch(/this server runs alone/)
      expect((await s.call("stop_task", { name: "web" })).isError).toBeFalsy()
      // No supervisor: nothing of one in the runtime directory.
      expect(readdirSync(runtime)).toEqual([])
    } finally {
      await s.client.close()
    }
  })
})
