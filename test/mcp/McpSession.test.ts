/** The protocol session alone: each request answered once, cancellations honoured, levels kept. */
import { describe, expect, it } from "vitest"
import { McpSession, PROTOCOL_VERSIONS } from "../../src/mcp/McpSession.ts"
import { invalidParams } from "../../src/mcp/protocolError.ts"

interface Sent {
  readonly id?: unknown
  readonly method?: string
  readonly params?: { readonly data?: unknown }
  readonly result?: Record<string, unknown>
  readonly error?: { readonly code: number; readonly message: string }
}

const session = () => {
  const sent: Array<Sent> = []
  const s = new McpSession((message) => sent.push(message as Sent), {
    capabilities: { tools: {} },
    instructions: "hello"
  })
  const ask = async (id: number | string, method: string, params?: Record<string, unknown>) => {
    s.receive({ jsonrpc: "2.0", id, method, ...(params && { params }) })
    await new Promise((resolve) => setImmediate(resolve))
    return sent.filter((m) => m.id === id)
  }
  return { s, sent, ask }
}

describe("McpSession", () => {
  it("checks every JSON value a transport hands it: invalid requests, batches, params by position", () => {
    const { s, sent } = session()
    s.receive([{ jsonrpc: "2.0", id: 1, method: "ping" }])
    s.receive({ jsonrpc: "1.0", id: 2, method: "ping" })
    s.receive({ jsonrpc: "2.0", id: 3, method: "tools/list", params: [1] })
    s.receive({ jsonrpc: "2.0", id: 2 ** 53 + 2, method: "ping" })
    s.receive({ jsonrpc: "2.0", method: "notifications/x", params: [1] })
    // A notification is never answered, however wrong (MCP's rule).
    s.receive({ jsonrpc: "2.0", method: "notifications/x", params: "s" })
    s.receive("hello")
    expect(sent.map((m) => [m.id, m.error?.code, m.error?.message])).toEqual([
      [
        null,
        -32600,
        "Batches are MCP 2025-03-26's only: this session speaks 2025-11-25, so send one JSON-RPC message per line."
      ],
      [2, -32600, "Invalid request: \"jsonrpc\" must be \"2.0\", got \"1.0\"."],
      [3, -32602, "Invalid params for tools/list: params must be an object, got [1]."],
      [
        null,
        -32600,
        "Invalid request: \"id\" is an integer beyond 2^53, which cannot be answered exactly: send it as a string."
      ],
      [null, -32600, "Invalid request: a message is a JSON object, not string."]
    ])
  })

  it("takes a batch in a 2025-03-26 session, the revision that has them: its answers in one array, once all are in", async () => {
    const { ask, s, sent } = session()
    await ask(0, "initialize", { protocolVersion: "2025-03-26", capabilities: {} })
    let release = () => {}
    s.handle("slow", () => new Promise((resolve) => (release = () => resolve({ slow: true }))))
    const before = sent.length
    s.receive([
      { jsonrpc: "2.0", id: 1, method: "slow" },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "ping" },
      { jsonrpc: "2.0", id: 3, method: "no/such" },
      { jsonrpc: "1.0", id: 4, method: "ping" },
      { jsonrpc: "2.0", id: 5, method: "initialize", params: { protocolVersion: "2025-03-26" } },
      { jsonrpc: "2.0", id: 6, method: "ping" }
    ])
    await new Promise((resolve) => setImmediate(resolve))
    // Nothing until the slow one is in (or, cancelled, never will be): then one array, every other
    // request's answer (in any order, as JSON-RPC allows), none for the notification.
    expect(sent.length).toBe(before)
    s.receive({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } })
    release()
    await new Promise((resolve) => setImmediate(resolve))
    expect(sent.length).toBe(before + 1)
    const answers = sent.at(-1) as unknown as Array<Sent>
    expect(answers.map((m) => [m.id, m.result ?? m.error?.code]).sort((a, b) => Number(a[0]) - Number(b[0])))
      .toEqual([
        [2, {}],
        [3, -32601],
        [4, -32600],
        [5, -32600],
        [6, {}]
      ])
    // A batch of notifications only is answered by nothing; an empty one is an invalid request.
    s.receive([{ jsonrpc: "2.0", method: "notifications/initialized" }])
    await new Promise((resolve) => setImmediate(resolve))
    expect(sent.length).toBe(before + 1)
    s.receive([])
    expect(sent.at(-1)).toMatchObject({ id: null, error: { code: -32600 } })
    // A batch whose last member is one that is wrong is answered all the same (JSON-RPC's own example: [1]).
    s.receive([1])
    expect(sent.at(-1)).toEqual([{ jsonrpc: "2.0", id: null, error: expect.objectContaining({ code: -32600 }) }])
    s.receive([
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 7, method: "ping", params: [1] },
      // An initialize with no id is a notification: never answered.
      { jsonrpc: "2.0", method: "initialize" }
    ])
    expect(sent.at(-1)).toEqual([{ jsonrpc: "2.0", id: 7, error: expect.objectContaining({ code: -32602 }) }])
  })

  it("agrees on the client's protocol revision when it knows it, else offers its newest", async () => {
    const { ask } = session()
    const [known] = await ask(1, "initialize", { protocolVersion: "2024-11-05", capabilities: {} })
    expect(known!.result).toMatchObject({
      protocolVersion: "2024-11-05",
      capabilities: { tools: {} },
      serverInfo: { name: "taskmux" },
      instructions: "hello"
    })
    const [future] = await ask(2, "initialize", { protocolVersion: "2099-01-01" })
    expect(future!.result?.protocolVersion).toBe("2025-11-25")
    // 2026-07-28 has no handshake: an initialize asking for it gets the newest revision that has one.
    const [modern] = await ask(4, "initialize", { protocolVersion: "2026-07-28" })
    expect(modern!.result?.protocolVersion).toBe("2025-11-25")
    expect(PROTOCOL_VERSIONS[0]).toBe("2026-07-28")
    const [bad] = await ask(3, "initialize", { protocolVersion: 7 })
    expect(bad!.error).toMatchObject({ code: -32602, message: expect.stringMatching(/protocolVersion .* got 7/) })
  })

  it("names the methods it answers when asked for one it does not", async () => {
    const { ask } = session()
    const [answer] = await ask("x", "tools/lsit")
    expect(answer!.error?.code).toBe(-32601)
    expect(answer!.error?.message).toMatch(/"tools\/lsit".*initialize, server\/discover, ping, logging\/setLevel/)
  })

  it("keeps an error's code and sentence; anything else is an internal error naming the method", async () => {
    const { ask, s } = session()
    s.handle("a", () => {
      throw invalidParams("a needs b.")
    })
    s.handle("c", () => Promise.reject(new Error("boom")))
    expect((await ask(1, "a"))[0]!.error).toEqual({ code: -32602, message: "a needs b." })
    expect((await ask(2, "c"))[0]!.error).toEqual({ code: -32603, message: "Internal error in c: boom" })
  })

  it("a cancelled request's signal fires and it is never answered; others are", async () => {
    const { s, sent } = session()
    let signal: AbortSignal | undefined
    s.handle("slow", (_, request) =>
      new Promise((resolve) => {
        signal = request.signal
        request.signal.addEventListener("abort", () => resolve("too late"))
      }))
    s.receive({ jsonrpc: "2.0", id: 9, method: "slow" })
    s.receive({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 9, reason: "user" } })
    s.receive({ jsonrpc: "2.0", id: 10, method: "ping" })
    await new Promise((resolve) => setImmediate(resolve))
    expect(signal?.aborted).toBe(true)
    expect(sent).toEqual([{ jsonrpc: "2.0", id: 10, result: {} }])
  })

  it("passes the progress token; drops log messages below the level the client set, and before its initialize", async () => {
    const { ask, s, sent } = session()
    s.log("error", "zero")
    await ask(0, "initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "c", version: "1" }
    })
    s.handle("p", (_, request) => ({ token: request.progressToken }))
    expect((await ask(1, "p", { _meta: { progressToken: "t" } }))[0]!.result).toEqual({ token: "t" })
    s.log("info", "one")
    expect((await ask(2, "logging/setLevel", { level: "warning" }))[0]!.result).toEqual({})
    s.log("info", "two")
    s.log("error", "three")
    const logged = sent.filter((m) => m.method === "notifications/message").map((m) => m.params?.data)
    expect(logged).toEqual(["one", "three"])
    expect((await ask(3, "logging/setLevel", { level: "loud" }))[0]!.error?.message).toMatch(
      /one of debug, info, .* got "loud"/
    )
  })

  it("refuses a cursor on a list it gives in one page (-32602), as MCP's pagination asks", async () => {
    const { ask, s } = session()
    s.handle("tools/list", () => ({ tools: [] }))
    expect((await ask(1, "tools/list", {}))[0]!.result).toEqual({ tools: [] })
    const [refused] = await ask(2, "tools/list", { cursor: "bogus" })
    expect(refused!.error).toMatchObject({
      code: -32602,
      message: expect.stringMatching(/cursor "bogus" was never given/)
    })
  })

  describe("2026-07-28 requests", () => {
    const MODERN = {
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientCapabilities": {},
      "io.modelcontextprotocol/clientInfo": { name: "new-client", version: "2" }
    }

    it("are answered statelessly: a result type, the server's info, cache hints on lists", async () => {
      const { ask, s } = session()
      s.handle("tools/list", () => ({ tools: [] }))
      const [list] = await ask(1, "tools/list", { _meta: MODERN })
      expect(list!.result).toEqual({
        resultType: "complete",
        tools: [],
        ttlMs: 0,
        cacheScope: "private",
        _meta: { "io.modelcontextprotocol/serverInfo": expect.objectContaining({ name: "taskmux" }) }
      })
      const [discover] = await ask(2, "server/discover", { _meta: MODERN })
      expect(discover!.result).toMatchObject({
        resultType: "complete",
        supportedVersions: PROTOCOL_VERSIONS,
        capabilities: { tools: {} },
        instructions: "hello"
      })
      expect(s.clientName).toBe("new-client")
    })

    it("name what is wrong with the envelope: an unknown revision (-32022 with the known ones), no capabilities", async () => {
      const { ask } = session()
      const [future] = await ask(1, "tools/list", {
        _meta: { ...MODERN, "io.modelcontextprotocol/protocolVersion": "2099-01-01" }
      })
      expect(future!.error).toMatchObject({
        code: -32022,
        message: expect.stringContaining("2099-01-01"),
        data: { supported: PROTOCOL_VERSIONS, requested: "2099-01-01" }
      })
      const [bare] = await ask(2, "tools/list", { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } })
      expect(bare!.error).toMatchObject({
        code: -32602,
        message: expect.stringMatching(/clientCapabilities.*\{\} for none/)
      })
      const [level] = await ask(3, "tools/list", { _meta: { ...MODERN, "io.modelcontextprotocol/logLevel": "loud" } })
      expect(level!.error).toMatchObject({ code: -32602, message: expect.stringMatching(/logLevel.*got "loud"/) })
    })

    it("refuse what 2026-07-28 removed, saying what replaced it; get no log messages", async () => {
      const { ask, s, sent } = session()
      const [ping] = await ask(1, "ping", { _meta: MODERN })
      expect(ping!.error).toMatchObject({
        code: -32601,
        message: expect.stringMatching(/ping is not part of MCP 2026-07-28/)
      })
      const [level] = await ask(2, "logging/setLevel", { level: "debug", _meta: MODERN })
      // Not pointed at _meta's logLevel: taskmux sends such a client no log messages, whatever its level.
      expect(level!.error?.message).toMatch(
        /send its clients log messages; a task's end is heard on a subscriptions\/listen/
      )
      s.log("error", "unasked")
      expect(sent.filter((m) => m.method === "notifications/message")).toEqual([])
      // A session-era request on the same connection is still answered as before.
      expect((await ask(3, "ping"))[0]!.result).toEqual({})
      // And 2026-07-28's own methods are refused to it, saying how to call them.
      s.handle("subscriptions/listen", () => new Promise(() => {}))
      const [listen] = await ask(4, "subscriptions/listen", {})
      expect(listen!.error).toMatchObject({ code: -32601, message: expect.stringMatching(/2026-07-28's.*_meta/) })
    })
  })
})
