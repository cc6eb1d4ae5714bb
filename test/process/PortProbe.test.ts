/**
 * A port wait where /proc tells nothing (macOS): a port that already accepted connections when the
 * wait began counts once lsof says a process of the task's group listens there, and not otherwise.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as Net from "node:net"
import { afterAll, describe, expect, it, vi } from "vitest"
import * as PortProbe from "../../src/process/PortProbe.ts"
import { freePort, until } from "../e2e/client.ts"

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

const accepting = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.once("connect", () => done(true)).once("error", () => done(false))
  }).then((ok) => ok || undefined)

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
})
