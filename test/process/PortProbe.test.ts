/**
 * A port wait where /proc tells nothing (macOS): a port that already accepted connections when the
 * wait began counts once lsof says a process of the task's group listens there, and not otherwise.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { afterAll, describe, expect, it, vi } from "vitest"
import * as PortProbe from "../../src/process/PortProbe.ts"
import { accepting, freePort, until } from "../e2e/client.ts"

vi.mock("../../src/process/procfs.ts", async (importOriginal) => ({
  ...await importOriginal<typeof import("../../src/process/procfs.ts")>(),
  available: false
}))

const started: Array<ChildProcess> = []
afterAll(() => {
  for (const child of started) process.kill(-child.pid!, "SIGKILL")
})

/** A process in a group of its own, as a task's leader is. */
const leader = (command: string, args: ReadonlyArray<string>) => {
  const child = spawn(command, args, { detached: true, stdio: "ignore" })
  started.push(child)
  return child
}

const hasLsof = spawnSync("lsof", ["-v"]).error === undefined

describe.runIf(process.platform === "linux" && hasLsof)("a port wait without /proc", () => {
  it("counts a port that was listening before the wait when it is the task's group's (lsof), not another's", async () => {
    const port = await freePort()
    const server = leader("python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1"])
    await until(() => accepting(port))
    const other = leader("sleep", ["60"])
    const own = PortProbe.make(port, () => [], () => server.pid)
    expect(await own.check()).toBe(port)
    expect(own.unknown()).toBeUndefined()
    const notOwn = PortProbe.make(port, () => [], () => other.pid)
    expect(await notOwn.check()).toBeUndefined()
  })

  it("names who else holds the port, and where the task listens instead (lsof), only for a port taken when the wait began", async () => {
    const [taken, next, free] = [await freePort(), await freePort(), await freePort()]
    const other = leader("python3", ["-m", "http.server", String(taken), "--bind", "127.0.0.1"])
    await until(() => accepting(taken))
    const task = leader("python3", ["-m", "http.server", String(next), "--bind", "127.0.0.1"])
    await until(() => accepting(next))
    const moved = PortProbe.make(taken, () => [], () => task.pid)
    expect(await moved.check()).toBeUndefined()
    expect(await moved.elsewhere()).toEqual({
      holder: { pid: other.pid, command: "python3", group: other.pid },
      ports: [next]
    })
    // A wait for a free port asks lsof nothing.
    expect(await PortProbe.make(free, () => [], () => task.pid).elsewhere()).toEqual({ holder: undefined, ports: [] })
  })
})
