/**
 * taskmux as PID 1 of a PID namespace, as a container's entrypoint makes it (`docker run IMAGE taskmux`):
 * it serves alone (a supervisor would end with the namespace, its tasks killed without their grace) and
 * says what that costs (orphans it cannot reap) and what to do (--init). And what such a container sees
 * of the network it shares with others (a pod): ports held by processes it cannot see.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { canMount } from "../helpers.ts"
import { accepting, connect, freePort, textOf, until } from "./client.ts"

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

  it("names a port held by a process of another PID namespace on its network (a pod's sidecar) as such", async () => {
    const port = await freePort()
    // Where it goes instead: a port found free, not port + 1, which another test may hold.
    let next = await freePort()
    while (next === port) next = await freePort()
    // Outside its namespace: a program it cannot see holds the port.
    const other = spawn("python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1"], { stdio: "ignore" })
    try {
      await until(() => accepting(port))
      const s = await connect({}, [], undefined, undefined, ["unshare", "--pid", "--fork", "--mount-proc"])
      try {
        // A dev server that finds its port taken and takes the next, as Vite does.
        const vite = [
          "import http.server, socketserver",
          `for port in (${port}, ${next}):`,
          "    try:",
          "        server = socketserver.TCPServer(('127.0.0.1', port), http.server.SimpleHTTPRequestHandler)",
          "        break",
          "    except OSError:",
          "        pass",
          "print('listening on', port, flush=True)",
          "server.serve_forever()"
        ].join("\n")
        const began = Date.now()
        const started = await s.call("start_task", {
          command: "python3",
          args: ["-c", vite],
          name: "vite",
          waitFor: { port, timeoutMs: 20_000 }
        })
        expect(Date.now() - began).toBeLessThan(10_000)
        expect(textOf(started)).toMatch(
          new RegExp(`Port ${port} is held by a process taskmux cannot see .* It listens on port ${next} instead`)
        )
        await s.call("stop_task", { name: "vite" })
      } finally {
        await s.client.close()
      }
    } finally {
      other.kill()
    }
  })
})
