/**
 * Issue 13 over real stdio: processes that left the task's process group end however the
 * server ends; "ready when it listens" for servers that print nothing or print late, on IPv4
 * and IPv6; and what each task uses (ports, memory, processes) in get_task and list_tasks.
 */
import * as Net from "node:net"
import { describe, expect, it } from "vitest"
import { fixture, isAlive, pidsIn } from "../helpers.ts"
import { connect, type Connected, freePort, textOf, until, withServer } from "./client.ts"

interface Waited {
  readonly name: string
  readonly status: string
  readonly matched: boolean
  readonly timedOut: boolean
  readonly port?: number
  readonly lastLines?: ReadonlyArray<{ readonly text: string }>
}
interface Summary {
  readonly name: string
  readonly status: string
  readonly ports: ReadonlyArray<number> | null
  readonly memoryBytes: number | null
}
interface Info extends Summary {
  readonly processes: ReadonlyArray<{ readonly pid: number; readonly command: string }> | null
  readonly cpuPercent: number | null
}

/** The escapes fixture prints six pids: five escapes (one with a cleared environment) and its own. */
const startEscapes = async (s: Connected, name: string, onTerminal = false) => {
  await s.structured("start_task", {
    command: fixture("escapes.sh"),
    name,
    ...(onTerminal && { terminal: true })
  })
  const pids = await until(async () => {
    const { lines } = await s.structured<{ lines: Array<{ text: string }> }>("read_output", { name, since: 0 })
    return pidsIn(lines).length === 6 ? pidsIn(lines) : undefined
  })
  expect(pids.filter(isAlive)).toHaveLength(6)
  return pids
}

const exited = (pid: number) => until(() => (isAlive(pid) ? undefined : true), 5_000)

describe("escaped processes end however the server ends", () => {
  it("when the client disconnects", async () => {
    const s = await connect()
    const pids = await startEscapes(s, "a")
    await s.client.close()
    await exited(s.pid)
    await until(() => (pids.some(isAlive) ? undefined : true), 5_000)
  })

  it("on SIGTERM", async () => {
    const s = await connect()
    const pids = await startEscapes(s, "a")
    process.kill(s.pid, "SIGTERM")
    await exited(s.pid)
    expect(pids.filter(isAlive)).toEqual([])
  })

  it("on SIGKILL, by the watchdog: marked ones, and one that cleared its environment but holds the output", async () => {
    const s = await connect()
    const pids = [...await startEscapes(s, "a"), ...await startEscapes(s, "b")]
    process.kill(s.pid, "SIGKILL")
    await until(() => (pids.some(isAlive) ? undefined : true), 5_000)
    expect(pids.filter(isAlive)).toEqual([])
    await s.client.close().catch(() => {})
  })

  it("on SIGKILL, by the watchdog, on a terminal: the server's end closed it, and who holds it is still the task's", async () => {
    const s = await connect()
    const pids = await startEscapes(s, "tty", true)
    process.kill(s.pid, "SIGKILL")
    await until(() => (pids.some(isAlive) ? undefined : true), 5_000)
    expect(pids.filter(isAlive)).toEqual([])
    await s.client.close().catch(() => {})
  })
})

describe("waitFor: { port }", () => {
  it("a node server that prints nothing, on whatever port it gets (\"any\")", () =>
    withServer(async (s) => {
      const started = await s.call("start_task", {
        command: "node",
        args: ["-e", "require('net').createServer().listen(0, '127.0.0.1')"],
        name: "quiet",
        waitFor: { port: "any", timeoutMs: 10_000 }
      })
      const waited = started.structuredContent as unknown as Waited
      expect(waited).toMatchObject({ matched: true, timedOut: false })
      expect(waited.port).toBeGreaterThan(0)
      expect(textOf(started)).toMatch(new RegExp(`"quiet" is listening on port ${waited.port} after`))
      const info = await s.structured<Info>("get_task", { name: "quiet" })
      expect(info.ports).toEqual([waited.port])
    }))

  for (const [label, bind] of [["IPv4", "127.0.0.1"], ["IPv6", "::1"]] as const) {
    it(`python3 -m http.server with its output buffered, on ${label}`, () =>
      withServer(async (s) => {
        const port = await freePort(bind)
        const started = await s.structured<Waited>("start_task", {
          command: `python3 -m http.server ${port} --bind ${bind}`,
          name: "http",
          // Its "Serving HTTP" line sits in a block buffer: only the port can tell.
          env: { PYTHONUNBUFFERED: "" },
          waitFor: { port, timeoutMs: 10_000 }
        })
        expect(started).toMatchObject({ matched: true, port })
        expect((await s.structured<{ lines: Array<unknown> }>("read_output", { name: "http", since: 0 })).lines)
          .toEqual([])
        // Ready means it accepts connections.
        await new Promise<void>((resolve, reject) =>
          Net.connect({ host: bind, port }).once("connect", function(this: Net.Socket) {
            this.destroy()
            resolve()
          }).once("error", reject)
        )
        const listed = await s.structured<{ tasks: Array<Summary> }>("list_tasks")
        expect(listed.tasks.find((t) => t.name === "http")?.ports).toEqual([port])
        await s.structured("stop_task", { name: "http" })
      }))
  }

  it("with a pattern too: both must hold", () =>
    withServer(async (s) => {
      const port = await freePort("127.0.0.1")
      const started = await s.structured<Waited & { line?: { text: string } }>("start_task", {
        command: "node",
        args: [
          "-e",
          `const s = require('net').createServer().listen(${port}, '127.0.0.1', () => setTimeout(() => console.log('warm'), 300))`
        ],
        name: "both",
        waitFor: { port, pattern: "^warm$", timeoutMs: 10_000 }
      })
      expect(started).toMatchObject({ matched: true, port })
      expect(started.line?.text).toBe("warm")
    }))

  it("a port that never opens: a timeout that says so, and an end that says so", () =>
    withServer(async (s) => {
      const port = await freePort("127.0.0.1")
      const timedOut = await s.call("start_task", {
        command: "echo booting; sleep 30",
        name: "never",
        waitFor: { port, timeoutMs: 1_000 }
      })
      expect(timedOut.structuredContent).toMatchObject({ matched: false, timedOut: true, status: "running" })
      expect(textOf(timedOut)).toMatch(
        new RegExp(`Timed out after 1(\\.\\d+)? s; "never" is still running, not listening on port ${port}\\.`)
      )
      expect(textOf(timedOut)).toContain("booting")
      await s.structured("start_task", { command: "echo no config; exit 3", name: "failing" })
      const gone = await s.call("wait_for_task", { name: "failing", port, since: 0, timeoutMs: 10_000 })
      expect(gone.structuredContent).toMatchObject({ matched: false, timedOut: false, status: "crashed" })
      expect(textOf(gone)).toMatch(new RegExp(`without listening on port ${port}`))
      expect(textOf(gone)).toContain("no config")
    }))

  it("refuses a port out of range, naming the field and what would be accepted", () =>
    withServer(async (s) => {
      const result = await s.call("start_task", { command: "true", waitFor: { port: 70_000 } })
      expect(result.isError).toBe(true)
      expect(textOf(result)).toMatch(/waitFor\.port: Expected a value between 1 and 65535, got 70000/)
    }))
})

describe("what a task uses", () => {
  it("memory of a task that allocates 100 MB is shown within 20 %, with its processes and CPU", () =>
    withServer(async (s) => {
      const MB = 1024 * 1024
      await s.structured("start_task", {
        command: "python3",
        // Written, so resident: an untouched allocation would not be.
        args: ["-c", `import time\nb = b"x" * (100 * ${MB})\nprint("allocated", flush=True)\ntime.sleep(60)`],
        name: "big",
        waitFor: { pattern: "^allocated$" }
      })
      const info = await s.structured<Info>("get_task", { name: "big" })
      expect(info.memoryBytes).toBeGreaterThan(100 * MB * 0.8)
      expect(info.memoryBytes).toBeLessThan(100 * MB * 1.2)
      expect(info.processes).toEqual([
        expect.objectContaining({ command: expect.stringMatching(/python3 -c import time b = b"x"/) })
      ])
      expect(info.cpuPercent).toBeGreaterThanOrEqual(0)
      const text = textOf(await s.call("get_task", { name: "big" }))
      expect(text).toMatch(/1 process, 1\d\d MB, CPU \d+(\.\d+)?%:\n {2}\d+ \S*python3 -c import time b = /)
      const listed = await s.call("list_tasks")
      expect(textOf(listed)).toMatch(/^big\trunning\tpid \d+\tpython3 -c 'import time b = .*', 1\d\d MB$/)
      expect((listed.structuredContent as { tasks: Array<Summary> }).tasks[0]).toMatchObject({
        ports: [],
        memoryBytes: info.memoryBytes === null ? null : expect.any(Number)
      })
      await s.structured("stop_task", { name: "big" })
      const stopped = await s.structured<Info>("get_task", { name: "big" })
      expect(stopped).toMatchObject({ processes: [], ports: [], memoryBytes: 0 })
    }))
})
