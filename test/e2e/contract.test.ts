/**
 * Issue 15: a contract a client can check. Every answer of every tool, in every outcome, validates
 * against its published output schema with a standard, strict JSON Schema validator (Ajv, draft
 * 2020-12); protocol mistakes get protocol errors in a sentence; and the server, fuzzed with
 * malformed JSON-RPC over real stdio, answers each request exactly once and keeps serving.
 * Issue 28: in both eras, each answer also checked by its revision's own client library (the 1.x SDK
 * for 2025-11-25, the 2.x Client for 2026-07-28), which validates it against that revision's schemas.
 */
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js"
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js"
import fc from "fast-check"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, type Connected, serverEntry, textOf, until } from "./client.ts"
import { connectModern } from "./modernClient.ts"

/** A client of one era, as the checks below use it. */
interface EraClient {
  readonly listTools: () => Promise<{ tools: Array<Tool> }>
  readonly call: (name: string, args: Record<string, unknown>) => Promise<unknown>
  readonly close: () => Promise<void>
}

const legacyClient = async (): Promise<EraClient> => {
  const s: Connected = await connect()
  return { listTools: () => s.client.listTools(), call: s.call, close: () => s.client.close() }
}

const modernClient = async (): Promise<EraClient> => {
  const s = await connectModern()
  return {
    listTools: async () => (await s.client.listTools()) as never,
    call: (name, args) => s.client.callTool({ name, arguments: args }),
    close: () => s.client.close()
  }
}

describe.each([
  ["2025-11-25, the 1.x SDK", legacyClient],
  ["2026-07-28, the 2.x Client", modernClient]
])("output schemas (%s)", (_, connectEra) => {
  let s: EraClient
  let listed: Array<Tool>
  const validators = new Map<string, ValidateFunction>()
  /** Which outcomes of which tools were checked: "start_task:timeout". */
  const seen = new Set<string>()

  beforeAll(async () => {
    s = await connectEra()
    listed = (await s.listTools()).tools
    // Strict: unknown keywords and formats fail to compile; every error is reported.
    const ajv = new Ajv2020({ strict: true, allErrors: true })
    for (const tool of listed) validators.set(tool.name, ajv.compile(tool.outputSchema!))
  })
  afterAll(async () => {
    await s.close()
  })

  /** Calls a tool, checks its answer against the published schema, and notes the outcome. */
  const check = async (tool: string, outcome: string, args: Record<string, unknown> = {}) => {
    const result = await s.call(tool, args) as CallToolResult
    if (result.isError === true) {
      expect(outcome, `${tool} ${JSON.stringify(args)} failed: ${textOf(result)}`).toBe("error")
      expect(result.structuredContent).toBeUndefined()
    } else {
      const validate = validators.get(tool)!
      expect(validate(result.structuredContent), `${tool}/${outcome}: ${JSON.stringify(validate.errors)}`).toBe(true)
    }
    seen.add(`${tool}:${outcome}`)
    return result
  }

  it("say which fields always come, type every array's items, and enumerate statuses and streams", () => {
    const problems: Array<string> = []
    const walk = (node: Record<string, unknown>, where: string) => {
      if (node.type === "array" || (Array.isArray(node.type) && node.type.includes("array"))) {
        if (node.items === undefined) problems.push(`${where}: an array without items`)
      }
      if (node.properties !== undefined && !Array.isArray(node.required)) problems.push(`${where}: no required list`)
      for (const [key, value] of Object.entries(node.properties ?? {})) {
        const field = value as Record<string, unknown>
        if (["status", "stream", "restartPolicy"].includes(key) && field.enum === undefined) {
          problems.push(`${where}.${key}: no enum`)
        }
        walk(field, `${where}.${key}`)
      }
      if (typeof node.items === "object" && node.items !== null) {
        walk(node.items as Record<string, unknown>, `${where}[]`)
      }
      for (const option of (node.anyOf as Array<Record<string, unknown>> | undefined) ?? []) walk(option, where)
    }
    for (const tool of listed) walk(tool.outputSchema as Record<string, unknown>, tool.name)
    expect(problems).toEqual([])
  })

  it("hold for every answer of every tool: success, timeout, exit and error", async () => {
    await check("list_tasks", "empty")
    await check("start_task", "started", { command: "echo hi; echo oops >&2; sleep 30", name: "a" })
    await check("start_task", "matched", { command: "echo ready; sleep 30", name: "b", waitFor: { pattern: "ready" } })
    await check("start_task", "timeout", { command: "sleep 30", name: "c", waitFor: { pattern: "x", timeoutMs: 100 } })
    await check("start_task", "exit", { command: "echo done; exit 3", name: "d", waitFor: { exit: true } })
    await check("start_task", "port", {
      command: "node",
      args: ["-e", "require('net').createServer().listen(0, '127.0.0.1')"],
      name: "e",
      waitFor: { port: "any" }
    })
    await check("start_task", "terminal", { command: "cat", name: "t", terminal: true, cols: 80, rows: 24 })
    await check("start_task", "error", { command: "true", cols: 5 })
    await check("list_tasks", "some")
    await check("get_task", "running", { name: "a" })
    await check("get_task", "env", { name: "a", envValues: true })
    await check("get_task", "finished", { name: "d" })
    await check("get_task", "terminal", { name: "t" })
    await check("get_task", "error", { name: "nope" })
    await check("read_output", "lines", { name: "a", since: 0 })
    await check("read_output", "grep", { name: "a", grep: "oops", timestamps: true })
    await check("read_output", "empty", { name: "c" })
    await check("read_output", "screen", { name: "t", screen: true })
    await check("read_output", "error", { name: "a", grep: "(" })
    await check("wait_for_task", "matched", { name: "a", pattern: "hi", since: 0 })
    await check("wait_for_task", "timeout", { name: "a", pattern: "never", timeoutMs: 100 })
    await check("wait_for_task", "exit", { name: "d", exit: true })
    await check("wait_for_task", "ended", { name: "d", pattern: "never" })
    await check("wait_for_task", "port", { name: "e", port: "any" })
    await check("wait_for_task", "error", { name: "a", exit: true, port: 1 })
    await check("send_input", "written", { name: "t", data: "hello\r" })
    await check("send_input", "resized", { name: "t", data: "", cols: 100 })
    await check("send_input", "error", { name: "d", data: "x" })
    await check("signal_task", "signalled", { name: "b", signal: "SIGCONT" })
    await check("signal_task", "error", { name: "d", signal: "SIGINT" })
    await check("restart_task", "restarted", { name: "d" })
    await check("restart_task", "error", { name: "nope" })
    await check("stop_task", "stopped", { name: "a" })
    await check("stop_task", "forced", { name: "b", force: true })
    await check("stop_task", "error", { name: "nope" })
    await check("remove_task", "removed", { name: "c" })
    await check("remove_task", "error", { name: "c" })
    for (const tool of listed) {
      expect([...seen].some((k) => k.startsWith(`${tool.name}:`) && !k.endsWith(":error")), tool.name).toBe(true)
      if (tool.name !== "list_tasks") expect(seen.has(`${tool.name}:error`), `${tool.name}:error`).toBe(true)
    }
  })
})

/** The built server over raw stdio: lines in, lines out. */
class RawServer {
  readonly child: ChildProcessWithoutNullStreams
  readonly answers: Array<Record<string, unknown>> = []
  readonly badLines: Array<string> = []
  private rest = ""

  constructor() {
    this.child = spawn(process.execPath, [serverEntry], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: os.tmpdir(),
        TASKMUX_LOG_DIR: mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-fuzz-logs-")),
        TASKMUX_ISOLATED: "1"
      }
    })
    this.child.stdout.on("data", (chunk: Buffer) => {
      const lines = (this.rest + chunk.toString("utf8")).split("\n")
      this.rest = lines.pop()!
      for (const line of lines) {
        try {
          this.answers.push(JSON.parse(line) as Record<string, unknown>)
        } catch {
          this.badLines.push(line)
        }
      }
    })
  }

  write(line: string | Buffer) {
    this.child.stdin.write(typeof line === "string" ? `${line}\n` : Buffer.concat([line, Buffer.from("\n")]))
  }

  /** Answers with this id (compared as JSON). */
  withId(id: unknown) {
    return this.answers.filter((a) => JSON.stringify(a.id) === JSON.stringify(id))
  }

  async initialize(protocolVersion = "2025-06-18") {
    this.write(JSON.stringify({
      jsonrpc: "2.0",
      id: "init",
      method: "initialize",
      params: { protocolVersion, capabilities: {}, clientInfo: { name: "fuzz", version: "1" } }
    }))
    await until(() => this.withId("init").length > 0 || undefined)
    this.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }))
  }

  async close() {
    this.child.stdin.end()
    await until(() => this.child.exitCode !== null || this.child.signalCode !== null || undefined, 5_000)
  }
}

/** A well-formed JSON-RPC response: exactly one of result and error, an error with a code and a sentence. */
const wellFormed = (a: Record<string, unknown>) => {
  if (a.jsonrpc !== "2.0" || !("id" in a)) return false
  if (("result" in a) === ("error" in a)) return false
  if ("error" in a) {
    const e = a.error as { code?: unknown; message?: unknown }
    return Number.isInteger(e.code) && typeof e.message === "string" && e.message.length > 0
  }
  return true
}

describe("protocol errors", () => {
  let server: RawServer
  beforeAll(async () => {
    server = new RawServer()
    await server.initialize()
  })
  afterAll(() => server.close())

  const ask = async (id: number, message: Record<string, unknown> | string) => {
    server.write(typeof message === "string" ? message : JSON.stringify({ jsonrpc: "2.0", id, ...message }))
    return (await until(() => server.withId(id)[0] ?? server.withId(null)[0])) as {
      error?: { code: number; message: string }
    }
  }

  it("a malformed tools/call, an unknown tool, or arguments that are not an object: -32602 in a sentence", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { method: "tools/call", params: {} },
        /^tools\/call needs params\.name, the name of a tool \(a string\): one of start_task, /
      ],
      [{ method: "tools/call", params: { name: 42 } }, /needs params\.name/],
      [{ method: "tools/call" }, /^tools\/call needs params: an object such as \{"name": "list_tasks"/],
      [
        { method: "tools/call", params: { name: "launch_rocket" } },
        /^Unknown tool "launch_rocket"\. Available tools: start_task/
      ],
      [
        { method: "tools/call", params: { name: "get_task", arguments: "web" } },
        /^tools\/call params\.arguments must be an object of get_task's fields, got a string\.$/
      ],
      [{ method: "tools/call", params: { name: "get_task", arguments: [1] } }, /got an array\.$/],
      [{ method: "tools/call", params: [] }, /params must be an object, got \[\]/],
      [{ method: "resources/read", params: { uri: 5 } }, /^Invalid params for resources\/read: params\.uri: /]
    ]
    for (const [i, [message, text]] of cases.entries()) {
      const answer = await ask(100 + i, message)
      expect(answer.error?.code, JSON.stringify(message)).toBe(-32602)
      expect(answer.error?.message).toMatch(text)
    }
  })

  it("a bad field value stays a tool error naming the field, the value and what would be accepted", async () => {
    server.write(JSON.stringify({
      jsonrpc: "2.0",
      id: 200,
      method: "tools/call",
      params: { name: "read_output", arguments: { name: "x", tail: -3 } }
    }))
    const [answer] = await until(() => server.withId(200).length > 0 ? server.withId(200) : undefined)
    const result = answer!.result as CallToolResult
    expect(result.isError).toBe(true)
    expect(textOf(result)).toMatch(/tail: Expected a value greater than or equal to 0, got -3/)
  })

  it("a line that is not JSON gets -32700; JSON that is no message, or a batch, gets -32600", async () => {
    for (
      const [line, code] of [
        ["{\"jsonrpc\": \"2.0\", \"id\": ", -32700],
        ["hello", -32700],
        ["[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", -32600],
        ["42", -32600],
        ["{\"jsonrpc\": \"1.0\", \"id\": 300, \"method\": \"ping\"}", -32600]
      ] as const
    ) {
      const before = server.answers.length
      server.write(line)
      await until(() => server.answers.length > before || undefined)
      expect(server.answers.at(-1), line).toMatchObject({ jsonrpc: "2.0", error: { code } })
    }
  })
})

describe("JSON-RPC batches", () => {
  it("are taken in a 2025-03-26 session, the revision that has them: one line of answers back", async () => {
    const server = new RawServer()
    try {
      await server.initialize("2025-03-26")
      const before = server.answers.length
      server.write(JSON.stringify([
        { jsonrpc: "2.0", id: 1, method: "ping" },
        { jsonrpc: "2.0", method: "notifications/initialized" },
        { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "list_tasks", arguments: {} } }
      ]))
      const [answer] = await until(() => server.answers.length > before ? server.answers.slice(before) : undefined)
      expect(Array.isArray(answer)).toBe(true)
      const answers = answer as unknown as Array<{ id: number; result?: { structuredContent?: unknown } }>
      expect(answers.map((a) => a.id).sort()).toEqual([1, 2])
      expect(answers.find((a) => a.id === 2)?.result?.structuredContent).toEqual({ tasks: [] })
    } finally {
      await server.close()
    }
  })
})

describe("fuzzing with malformed JSON-RPC", () => {
  it("answers each request exactly once, well-formed, and keeps serving", async () => {
    const server = new RawServer()
    await server.initialize()
    const anything = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.string({ maxLength: 20 }),
      fc.constant([]),
      fc.constant({}),
      fc.constant(1e308),
      fc.constant(2 ** 53 + 1),
      fc.constant("x".repeat(100_000))
    )
    const method = fc.oneof(
      fc.constantFrom("tools/call", "tools/list", "resources/read", "resources/list", "prompts/get", "ping"),
      fc.constantFrom("initialize", "logging/setLevel", "no/such/method", ""),
      // 2026-07-28's and the tasks' (subscriptions/listen is left out: it is answered only when cancelled).
      fc.constantFrom("server/discover", "tasks/get", "tasks/result", "tasks/list", "tasks/cancel", "tasks/update"),
      anything
    )
    const envelope = fc.record({
      "io.modelcontextprotocol/protocolVersion": fc.oneof(
        fc.constantFrom("2026-07-28", "2025-11-25", "2099-01-01"),
        anything
      ),
      "io.modelcontextprotocol/clientCapabilities": fc.oneof(
        fc.constant({}),
        fc.constant({ extensions: { "io.modelcontextprotocol/tasks": {} } }),
        anything
      ),
      "io.modelcontextprotocol/logLevel": fc.oneof(fc.constantFrom("debug", "loud"), anything)
    }, { requiredKeys: [] })
    const params = fc.oneof(
      anything,
      fc.record({ name: fc.oneof(fc.constantFrom("get_task", "start_task", "list_tasks"), anything) }),
      fc.record({ name: fc.constantFrom("get_task", "read_output", "start_task"), arguments: anything }),
      fc.record({ uri: anything, name: anything, level: anything }),
      fc.record({
        _meta: fc.oneof(envelope, anything),
        name: fc.oneof(fc.constantFrom("list_tasks", "wait_for_task", "start_task"), anything),
        arguments: anything,
        task: anything,
        taskId: anything
      }, { requiredKeys: ["_meta"] })
    )
    const message = fc.record(
      { jsonrpc: fc.oneof(fc.constant("2.0"), anything), id: anything, method, params },
      { requiredKeys: [] }
    )
    const samples = fc.sample(message, { numRuns: 300, seed: 4242 })
    for (const [i, sample] of samples.entries()) {
      // Each probe is followed by a ping: once the ping is answered, the probe's answer (if any) came first.
      const before = server.answers.length
      const bytes = Buffer.from(JSON.stringify(sample))
      // Now and then, bytes that are not UTF-8 inside a string.
      server.write(
        i % 17 === 0
          ? Buffer.concat([bytes.subarray(0, -1), Buffer.from([0x2c, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])])
          : bytes
      )
      server.write(JSON.stringify({ jsonrpc: "2.0", id: `ping-${i}`, method: "ping" }))
      await until(() => server.withId(`ping-${i}`).length > 0 || undefined, 20_000)
      // Answers only: a protocol task the probe made may send its status notifications.
      const answers = server.answers.slice(before).filter((a) => a.id !== `ping-${i}` && !("method" in a))
      for (const answer of answers) expect(wellFormed(answer), JSON.stringify(answer)).toBe(true)
      const isNotification = sample.jsonrpc === "2.0" && typeof sample.method === "string" && !("id" in sample)
      // A notification is never answered (MCP's rule), however wrong its params; anything else is answered once.
      expect(answers.length, JSON.stringify(sample).slice(0, 300)).toBe(isNotification ? 0 : 1)
    }
    expect(server.badLines).toEqual([])
    // Still serving.
    server.write(JSON.stringify({ jsonrpc: "2.0", id: "last", method: "tools/call", params: { name: "list_tasks" } }))
    await until(() => server.withId("last").length > 0 || undefined)
    expect(server.withId("last")[0]).toMatchObject({ result: { structuredContent: { tasks: expect.any(Array) } } })
    await server.close()
  }, 120_000)
})
