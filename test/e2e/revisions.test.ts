/**
 * Issue 28: MCP 2026-07-28 as its own client library speaks it (the 2.x TypeScript SDK, which checks
 * every answer against that revision's schemas), beside the 2025 era (the 1.x SDK) on one server:
 * the stateless flow with every tool, resources and prompts, subscriptions/listen, a version mismatch,
 * and two clients of different eras on one shared supervisor.
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js"
import { execFileSync, spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { isAlive } from "../helpers.ts"
import { connect, serverEntry, until } from "./client.ts"
import { connectModern, type ModernConnected } from "./modernClient.ts"

describe("MCP 2026-07-28, driven by the 2.x SDK's Client", () => {
  let s: ModernConnected
  const validators = new Map<string, ValidateFunction>()
  const notifications: Array<{ method: string; params?: Record<string, unknown> }> = []

  beforeAll(async () => {
    s = await connectModern()
    s.client.fallbackNotificationHandler = async (n) => void notifications.push(n as never)
    for (
      const method of [
        "notifications/message",
        "notifications/resources/updated",
        "notifications/resources/list_changed"
      ]
    ) {
      s.client.setNotificationHandler(method as "notifications/message", (n) => void notifications.push(n as never))
    }
    const ajv = new Ajv2020({ strict: true, allErrors: true })
    for (const tool of (await s.client.listTools()).tools) {
      validators.set(tool.name, ajv.compile(tool.outputSchema as object))
    }
  })
  afterAll(async () => {
    await s.client.close()
  })

  /** A tool call the client checked against the revision's schema; its structured content checked here too. */
  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await s.client.callTool({ name, arguments: args })
    const validate = validators.get(name)!
    if (result.isError !== true) {
      expect(validate(result.structuredContent), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true)
    }
    return result as {
      isError?: boolean
      structuredContent?: Record<string, unknown>
      content: Array<{ text?: string }>
    }
  }

  it("is negotiated with server/discover: the revision, its capabilities, the Tasks extension, no handshake", async () => {
    expect(s.client.getNegotiatedProtocolVersion()).toBe("2026-07-28")
    expect(s.client.getServerCapabilities()).toMatchObject({
      tools: {},
      resources: { subscribe: true, listChanged: true },
      prompts: {},
      extensions: { "io.modelcontextprotocol/tasks": {} }
    })
    // Not offered: a 2026-07-28 client gets no log messages (a task's end is heard on a listen).
    expect(s.client.getServerCapabilities()).not.toHaveProperty("logging")
    // 2026-07-28 tools have no `execution` (2025-11-25's task support field).
    const tools = (await s.client.listTools()).tools
    expect(tools.map((t) => t.name)).toContain("wait_for_task")
    expect(tools.filter((t) => "execution" in t)).toEqual([])
    // "auto", as a client that speaks both eras starts: it asks server/discover first, and picks this one.
    const auto = await connectModern({}, "auto")
    try {
      expect(auto.client.getNegotiatedProtocolVersion()).toBe("2026-07-28")
    } finally {
      await auto.client.close()
    }
  })

  it("serves every tool statelessly, each answer valid for the revision and for the tool's output schema", async () => {
    const started = await call("start_task", {
      name: "repl",
      command: "perl",
      args: ["-ne", "$| = 1; print \"got $_\""]
    })
    expect(started.structuredContent).toMatchObject({ name: "repl", status: "running" })
    const pid = started.structuredContent!.pid as number
    expect((await call("send_input", { name: "repl", data: "hello\n" })).isError).not.toBe(true)
    const waited = await call("wait_for_task", { name: "repl", pattern: "got hello", timeoutMs: 10_000 })
    expect(waited.structuredContent).toMatchObject({ matched: true })
    const read = await call("read_output", { name: "repl" })
    expect((read.structuredContent!.lines as Array<{ text: string }>).map((l) => l.text)).toEqual(["got hello"])
    const listed = await call("list_tasks", {})
    expect(listed.structuredContent!.tasks).toEqual([expect.objectContaining({ name: "repl", owner: "you" })])
    expect((await call("get_task", { name: "repl" })).structuredContent).toMatchObject({
      client: "taskmux-e2e-2026"
    })
    expect((await call("signal_task", { name: "repl", signal: "SIGCONT" })).isError).not.toBe(true)
    const restarted = await call("restart_task", { name: "repl" })
    expect(restarted.structuredContent!.pid).not.toBe(pid)
    expect((await call("stop_task", { name: "repl" })).structuredContent).toMatchObject({ status: "stopped" })
    expect((await call("remove_task", { name: "repl" })).isError).not.toBe(true)
    // A tool's own error is a result with isError, as in every revision.
    const missing = await call("get_task", { name: "nope" })
    expect(missing.isError).toBe(true)
    expect(missing.content[0]!.text).toMatch(/nope/)
  })

  it("remembers nothing between requests: a wait without a cursor looks at the run's own lines", async () => {
    await call("start_task", { name: "lines", command: "echo one; sleep 30" })
    const first = await call("wait_for_task", { name: "lines", pattern: "one", timeoutMs: 10_000 })
    expect(first.structuredContent).toMatchObject({ matched: true })
    // A 2025 session would time out here (the line was shown); a stateless request sees it again.
    const again = await call("wait_for_task", { name: "lines", pattern: "one", timeoutMs: 5_000 })
    expect(again.structuredContent).toMatchObject({ matched: true })
    // The explicit handle: the cursor an answer gave.
    const after = await call("wait_for_task", {
      name: "lines",
      pattern: "one",
      since: first.structuredContent!.nextCursor,
      timeoutMs: 300
    })
    expect(after.structuredContent).toMatchObject({ matched: false, timedOut: true })
    await call("stop_task", { name: "lines" })
  })

  it("lists and reads resources, lists and gets prompts, and says a missing resource is a bad param", async () => {
    await call("start_task", { name: "res", command: "echo resource line; sleep 30", waitFor: { pattern: "resource" } })
    const resources = await s.client.listResources()
    expect(resources.resources.map((r) => r.uri)).toContain("task://res/output")
    expect((await s.client.listResourceTemplates()).resourceTemplates[0]!.uriTemplate).toBe("task://{name}/output")
    const read = await s.client.readResource({ uri: "task://res/output" })
    expect(read.contents[0]).toMatchObject({ text: "resource line" })
    await expect(s.client.readResource({ uri: "task://nope/output" })).rejects.toMatchObject({ code: -32602 })
    expect((await s.client.listPrompts()).prompts.map((p) => p.name)).toEqual(["run-dev-server"])
    const prompt = await s.client.getPrompt({ name: "run-dev-server", arguments: { command: "npm run dev" } })
    expect(JSON.stringify(prompt.messages)).toMatch(/start_task/)
    await call("stop_task", { name: "res" })
  })

  it("sends notifications only on a subscriptions/listen, each with its subscription id, until it is closed", async () => {
    await call("start_task", { name: "ticker", command: "for i in $(seq 1 300); do echo tick $i; sleep 0.1; done" })
    notifications.length = 0
    const subscription = await s.client.listen({
      resourcesListChanged: true,
      resourceSubscriptions: ["task://ticker/output", "task://newcomer/output", "ui://taskmux/tasks"]
    })
    // What it will hear: the list, the task that runs and the one not started yet (listen, then start:
    // the order that misses nothing), not what is no task's output.
    expect(subscription.honoredFilter).toEqual({
      resourcesListChanged: true,
      resourceSubscriptions: ["task://ticker/output", "task://newcomer/output"]
    })
    await until(() => notifications.find((n) => n.method === "notifications/resources/updated"))
    await call("start_task", { name: "newcomer", command: "echo here; sleep 30" })
    await until(() => notifications.find((n) => n.method === "notifications/resources/list_changed"))
    await until(() =>
      notifications.find((n) =>
        n.method === "notifications/resources/updated" && n.params?.uri === "task://newcomer/output"
      )
    )
    for (const n of notifications) {
      expect(n.params?._meta).toMatchObject({ "io.modelcontextprotocol/subscriptionId": expect.anything() })
    }
    await subscription.close()
    await new Promise((resolve) => setTimeout(resolve, 600))
    notifications.length = 0
    await call("stop_task", { name: "newcomer" })
    await call("stop_task", { name: "ticker" })
    await new Promise((resolve) => setTimeout(resolve, 600))
    // Closed: nothing more, and no log message about the ends (2026-07-28 sends none unasked).
    expect(notifications).toEqual([])
  })

  it("refuses an unknown revision with -32022 and the ones it speaks, a removed method with its replacement, and goes on", async () => {
    const mismatch = await s.raw("tools/list", {}, {}, "2099-01-01")
    expect(mismatch).toMatchObject({
      kind: "error",
      error: { code: -32022, data: { requested: "2099-01-01", supported: expect.arrayContaining(["2026-07-28"]) } }
    })
    const ping = await s.raw("ping")
    expect(ping).toMatchObject({
      kind: "error",
      error: { code: -32601, message: expect.stringMatching(/server\/discover/) }
    })
    expect((await s.client.listTools()).tools.length).toBe(10)
  })
})

/** One line-delimited JSON-RPC exchange with the built server, as a client of any revision speaks. */
const rawSession = () => {
  const child = spawn(process.execPath, [serverEntry], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: os.tmpdir(),
      TASKMUX_LOG_DIR: mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-rev-logs-")),
      TASKMUX_ISOLATED: "1"
    }
  })
  const answers = new Map<unknown, Record<string, unknown>>()
  const notifications: Array<{ method: string; params?: Record<string, unknown> }> = []
  let rest = ""
  child.stdout.on("data", (chunk: Buffer) => {
    const lines = (rest + chunk.toString("utf8")).split("\n")
    rest = lines.pop()!
    for (const line of lines) {
      const message = JSON.parse(line) as Record<string, unknown>
      if ("id" in message) answers.set(message.id, message)
      else notifications.push(message as never)
    }
  })
  let next = 0
  const ask = async (method: string, params: Record<string, unknown> = {}) => {
    const id = ++next
    child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`)
    return until(() => answers.get(id)) as Promise<{ result?: Record<string, unknown>; error?: { code: number } }>
  }
  /** Messages written as they are, in one write (a request and its cancellation together). */
  const write = (...messages: Array<Record<string, unknown>>) =>
    child.stdin.write(messages.map((message) => `${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`).join(""))
  return { ask, write, notifications, close: () => child.stdin.end() }
}

describe("a 2026-07-28 listen with what to hear beside params.notifications", () => {
  it("is refused, saying where it goes, rather than opened to hear nothing; a right one is then opened", async () => {
    const session = rawSession()
    const _meta = {
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientCapabilities": {},
      "io.modelcontextprotocol/clientInfo": { name: "misplaced", version: "1" }
    }
    try {
      const wrong = await session.ask("subscriptions/listen", { resourcesListChanged: true, _meta }) as {
        error?: { code: number; message: string }
      }
      expect(wrong.error?.code).toBe(-32602)
      expect(wrong.error?.message).toMatch(/resourcesListChanged go in params\.notifications/)
      session.write({
        id: 900,
        method: "subscriptions/listen",
        params: { notifications: { resourcesListChanged: true }, _meta }
      })
      const acknowledged = await until(() =>
        session.notifications.find((n) => n.method === "notifications/subscriptions/acknowledged")
      )
      expect(acknowledged.params).toMatchObject({ notifications: { resourcesListChanged: true } })
    } finally {
      session.close()
    }
  })
})

describe("a 2026-07-28 subscription cancelled as it is opened", () => {
  it("is never opened: no acknowledgement, and no notification for it after", async () => {
    const session = rawSession()
    const _meta = {
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientCapabilities": {},
      "io.modelcontextprotocol/clientInfo": { name: "changes-its-mind", version: "1" }
    }
    try {
      const started = await session.ask("tools/call", {
        name: "start_task",
        arguments: { name: "ticker", command: "while true; do echo tick; sleep 0.1; done" },
        _meta
      })
      expect(started.result).toMatchObject({ structuredContent: { status: "running" } })
      // Five listens, each with its cancellation in the same write: the cancellation comes while the
      // listen sets up its watch.
      for (const id of [100, 101, 102, 103, 104]) {
        session.write(
          {
            id,
            method: "subscriptions/listen",
            params: { notifications: { resourceSubscriptions: ["task://ticker/output"] }, _meta }
          },
          { method: "notifications/cancelled", params: { requestId: id, reason: "changed my mind" } }
        )
      }
      // One listen that stays open, to know when the ticker's output has been heard.
      session.write({
        id: 200,
        method: "subscriptions/listen",
        params: { notifications: { resourceSubscriptions: ["task://ticker/output"] }, _meta }
      })
      const heardBy = (id: number) =>
        session.notifications.filter((n) =>
          (n.params?._meta as Record<string, unknown> | undefined)?.["io.modelcontextprotocol/subscriptionId"] === id
        )
      await until(() =>
        heardBy(200).filter((n) => n.method === "notifications/resources/updated").length >= 5 || undefined
      )
      for (const id of [100, 101, 102, 103, 104]) expect(heardBy(id)).toEqual([])
      await session.ask("tools/call", { name: "stop_task", arguments: { name: "ticker" }, _meta })
    } finally {
      session.close()
    }
  })
})

describe("every session revision, 2024-11-05 to 2025-11-25", () => {
  it.each(["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"])(
    "%s: agreed, its tools listed and called; the tasks utility offered only from 2025-11-25",
    async (revision) => {
      const session = rawSession()
      try {
        const init = await session.ask("initialize", {
          protocolVersion: revision,
          capabilities: {},
          clientInfo: { name: "old", version: "1" }
        })
        expect(init.result).toMatchObject({ protocolVersion: revision, serverInfo: { name: "taskmux" } })
        const tasksOffered = revision === "2025-11-25"
        expect("tasks" in (init.result!.capabilities as object)).toBe(tasksOffered)
        const tools = (await session.ask("tools/list")).result!.tools as Array<Record<string, unknown>>
        expect(tools).toHaveLength(10)
        expect(tools.some((t) => "execution" in t)).toBe(tasksOffered)
        // No 2026-07-28 fields in a session's answers.
        const listed = await session.ask("tools/call", { name: "list_tasks", arguments: {} })
        expect(listed.result).toMatchObject({ structuredContent: { tasks: [] } })
        expect(listed.result).not.toHaveProperty("resultType")
        expect((await session.ask("ping")).result).toEqual({})
      } finally {
        session.close()
      }
    }
  )
})

describe("two eras on one shared supervisor", () => {
  it("a 2025 session and a 2026-07-28 client see and stop each other's tasks; each hears as its era says", async () => {
    const project = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-eras-"))
    const runtime = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-eras-run-"))
    const env = { TASKMUX_ISOLATED: "false", XDG_RUNTIME_DIR: runtime, TASKMUX_LINGER_MS: "500" }
    const args = ["--project", project]
    const old = await connect(env, args)
    const modern = await connectModern(env, "pin", args)
    try {
      const logs: Array<unknown> = []
      old.client.setNotificationHandler(
        (await import("@modelcontextprotocol/sdk/types.js")).LoggingMessageNotificationSchema,
        (n) => void logs.push(n.params.data)
      )
      const started = await modern.client.callTool({
        name: "start_task",
        arguments: { name: "shared", command: "sleep 60" }
      })
      const pid = (started.structuredContent as { pid: number }).pid
      const seen = await old.structured<{ tasks: Array<{ name: string; owner: string }> }>("list_tasks")
      expect(seen.tasks).toEqual([expect.objectContaining({ name: "shared", owner: "other" })])
      await old.structured("stop_task", { name: "shared" })
      expect(isAlive(pid)).toBe(false)
      // The 2025 session hears the end as a log message; the 2026-07-28 client asked for nothing.
      await until(() => logs.find((d) => (d as { name?: string }).name === "shared"))
      const listed = await modern.client.callTool({ name: "list_tasks", arguments: {} })
      expect((listed.structuredContent as { tasks: Array<{ status: string }> }).tasks[0]!.status).toBe("stopped")
      // One supervisor served both.
      const supervisors = execFileSync("pgrep", ["-f", `supervise .*${project}`]).toString().trim().split("\n")
      expect(supervisors).toHaveLength(1)
    } finally {
      await modern.client.close()
      await old.client.close()
    }
  })
})
