import { PassThrough } from "node:stream"
import { describe, expect, it } from "vitest"
import { type Hello, hello, readGreeting } from "../../src/daemon/hello.ts"
import { isHello } from "../../src/daemon/isHello.ts"

/** What readGreeting gives for a socket that receives `chunks`, one `data` event each. */
const greetingOf = (chunks: ReadonlyArray<Buffer | string>) =>
  new Promise<{ greeting: Hello | undefined; rest: string }>((resolve) => {
    const socket = new PassThrough()
    readGreeting<Hello>(socket, (greeting, rest) => resolve({ greeting, rest: rest.toString() }))
    for (const chunk of chunks) socket.emit("data", Buffer.from(chunk))
  })

describe("a socket's greeting", () => {
  const line = JSON.stringify(hello("cli"))

  it("is read in whatever pieces it comes, and what follows its line is kept for the session", async () => {
    for (const cut of [1, 7, line.length - 1, line.length]) {
      const { greeting, rest } = await greetingOf([line.slice(0, cut), `${line.slice(cut)}\n{"jsonrpc"`, ":\"2.0\"}"])
      expect(greeting?.role, String(cut)).toBe("cli")
      expect(rest).toBe("{\"jsonrpc\"")
    }
  })

  it("is none when no line ends within 4 MiB, or the line is not a greeting", async () => {
    const big = Buffer.alloc(1024 * 1024, 0x20)
    expect((await greetingOf([big, big, big, big, big])).greeting).toBeUndefined()
    expect((await greetingOf(["{\"taskmux\": 1}\n"])).greeting).toBeUndefined()
    expect((await greetingOf(["not json\n"])).greeting).toBeUndefined()
  })

  it("of this build has a Hello's shape; one with a field of another shape has not", () => {
    expect(isHello(hello("front", ["--max-tasks", "8"]))).toBe(true)
    expect(isHello(hello("cli"))).toBe(true)
    const base = { taskmux: "0.1.0", protocol: 4, role: "cli" }
    for (
      const odd of [{ args: 5 }, { args: [1] }, { env: null }, { env: { A: 1 } }, { cwd: 7 }, { role: "x" }, {
        build: 3
      }]
    ) {
      expect(isHello({ ...base, ...odd }), JSON.stringify(odd)).toBe(false)
    }
  })
})
