/**
 * A server where /proc tells nothing: a container or sandbox that hides it (an empty one), or one this
 * user may not list. It must say what it cannot tell (null figures), stop whole task groups as it does
 * off Linux, and never crash. Run in a mount namespace of its own (unshare), as macOS's code path is.
 */
import { execFileSync } from "node:child_process"
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { canMount, inMountNamespace, processesWithEnv } from "../helpers.ts"
import { accepting, connect, freePort, serverEntry, textOf, until } from "./client.ts"

const cases = [
  { hidden: "an empty /proc", launcher: inMountNamespace("mount -t tmpfs -o size=4k none /proc") },
  // `nobody`, for whom a /proc of mode 000 cannot be listed (root could).
  {
    hidden: "a /proc it may not list",
    launcher: inMountNamespace(
      "mount -t tmpfs -o size=4k,mode=000 none /proc",
      ...["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    )
  },
  // A PID namespace that kept the host's /proc (unshare --pid without --mount-proc, a sandbox that binds
  // it): its numbers are other processes here, which a stop would signal.
  { hidden: "the /proc of another PID namespace", launcher: ["unshare", "--pid", "--fork"] }
]

describe.runIf(canMount())("a server where /proc tells nothing", () => {
  for (const { hidden, launcher } of cases) {
    it(`says what it cannot tell, stops a task's group, and goes on serving, with ${hidden}`, async () => {
      const marker = `${process.pid}-${Math.random()}`
      const home = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-noproc-"))
      // Reachable by nobody too.
      chmodSync(home, 0o777)
      execFileSync("chmod", ["o+x", os.tmpdir()])
      const s = await connect(
        { HOME: home, TASKMUX_LOG_DIR: home },
        [],
        serverEntry,
        home,
        launcher
      )
      try {
        // A shell and the two sleeps it runs, all in the task's process group.
        const started = await s.call("start_task", {
          name: "tree",
          command: "sleep 600 & sleep 600; wait",
          env: { NOPROC_TEST: marker }
        })
        expect(started.isError, textOf(started)).toBeFalsy()
        const pids = await until(() => {
          const found = processesWithEnv("NOPROC_TEST", marker)
          return found.length >= 3 ? found : undefined
        })
        const got = await s.call("get_task", { name: "tree" })
        expect(got.isError, textOf(got)).toBeFalsy()
        // Not "no ports, no memory, no processes": unknown.
        expect(got.structuredContent).toMatchObject({
          status: "running",
          processes: null,
          memoryBytes: null,
          ports: null
        })
        expect(textOf(got)).toContain("processes, ports, memory and CPU are unknown here")
        const listed = await s.call("list_tasks")
        expect(listed.isError, textOf(listed)).toBeFalsy()
        const stopped = await s.call("stop_task", { name: "tree" })
        expect(stopped.isError, textOf(stopped)).toBeFalsy()
        expect(stopped.structuredContent).toMatchObject({ status: "stopped" })
        await until(() => processesWithEnv("NOPROC_TEST", marker).length === 0 ? true : undefined)
        expect(pids.filter((pid) => processesWithEnv("NOPROC_TEST", marker).includes(pid))).toEqual([])
        // A port wait after a start that did not wait: the port already accepts, and whose listener it is
        // cannot be told (lsof reads this same /proc): the timeout says so rather than "not listening".
        const port = await freePort()
        await s.call("start_task", {
          name: "http",
          command: "python3",
          args: ["-m", "http.server", String(port), "--bind", "127.0.0.1"]
        })
        await until(() => accepting(port))
        const waited = await s.call("wait_for_task", { name: "http", port, timeoutMs: 1500 })
        expect(waited.structuredContent).toMatchObject({ timedOut: true })
        expect(textOf(waited)).toContain(
          `Port ${port} already accepted connections when the wait began, and without a readable /proc`
        )
        await s.call("stop_task", { name: "http" })
        // Still serving.
        const again = await s.call("list_tasks")
        expect(again.isError, textOf(again)).toBeFalsy()
        expect(s.stderr()).not.toMatch(/EACCES|uncaught|TypeError/i)
      } finally {
        await s.client.close()
      }
    }, 60_000)
  }
})

// Root may run as any uid: one with no passwd entry and no HOME, as a container's `--user 12345` with a
// client that passes none.
describe.runIf(process.getuid?.() === 0)("a server run by a uid with no passwd entry and no HOME", () => {
  it("reads its project file, answers, and says a cwd of ~ is no directory, instead of failing at load", async () => {
    const project = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-nopasswd-"))
    writeFileSync(NodePath.join(project, "taskmux.yaml"), "tasks:\n  home:\n    command: pwd\n    cwd: ~/src\n")
    chmodSync(project, 0o777)
    execFileSync("chmod", ["o+x", os.tmpdir()])
    const s = await connect({ TASKMUX_LOG_DIR: project }, [], serverEntry, project, [
      "env",
      "-u",
      "HOME",
      "setpriv",
      "--reuid=54321",
      "--regid=54321",
      "--clear-groups"
    ])
    try {
      const listed = await s.structured<{ tasks: Array<{ name: string; status: string }> }>("list_tasks")
      expect(listed.tasks).toMatchObject([{ name: "home", status: "defined" }])
      const started = await s.call("start_task", { name: "home" })
      expect(started.isError).toBe(true)
      expect(textOf(started)).toMatch(/working directory ".*\/~\/src" .* does not exist/)
      const ran = await s.structured<{ status: string }>("start_task", {
        command: "pwd",
        name: "here",
        waitFor: { exit: true }
      })
      expect(ran.status).toBe("exited")
    } finally {
      await s.client.close()
    }
  })
})
