/**
 * Issue 28: long waits as MCP protocol tasks, driven by real client libraries of both eras: the 1.x
 * SDK's experimental tasks client (the 2025-11-25 tasks utility) and the 2.x Client with
 * `@modelcontextprotocol/ext-tasks` (the 2026-07-28 Tasks extension). A run longer than the client's
 * request timeout (60 s by default; 3 s here, and the same run as a plain call is seen to time out) goes
 * to its end as a task; cancelling a run as a task stops it (pid checked), cancelling any other wait
 * only ends the wait.
 */
import { type CallToolResult, CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js"
import { mkdtempSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PER_SESSION } from "../../src/mcp/ProtocolTasks.ts"
import { isAlive } from "../helpers.ts"
import { connect, type Connected, until } from "./client.ts"
import { connectModern, type ModernConnected } from "./modernClient.ts"

/** The clients' request timeout here: a plain call of LONGER_THAN_TIMEOUT times out, a task does not. */
const CLIENT_TIMEOUT_MS = 3_000
/** A build that outlives the client's request timeout twice over and says how it goes (python3, as users' scripts are). */
const LONGER_THAN_TIMEOUT = [
  "-c",
  "import time\nfor i in range(1, 5):\n    print(f'step {i} of 4', flush=True)\n    time.sleep(2)\nprint('built')"
]
/** A run that would go on for long, with a child of its own. */
const TREE = [
  "-c",
  "import subprocess, time\nsubprocess.Popen(['sleep', '300'])\nprint('up', flush=True)\ntime.sleep(300)"
]

/** The pids of a TREE task's processes, once it is up (python3 may be a shim that runs helpers first). */
const treeOf = async (s: { call: (name: string, args: Record<string, unknown>) => Promise<unknown> }, name: string) => {
  await s.call("wait_for_task", { name, pattern: "^up$", since: 0, timeoutMs: 15_000 })
  const task = await s.call("get_task", { name }) as { structuredContent?: { processes?: Array<{ pid: number }> } }
  const pids = task.structuredContent?.processes?.map((p) => p.pid) ?? []
  expect(pids).toHaveLength(2)
  return pids
}

describe.concurrent("a run longer than the client's request timeout, as a protocol task", () => {
  it("2025-11-25, with the 1.x SDK: working with its last line as status, then exactly the tool's result", async () => {
    const s = await connect()
    try {
      await s.client.listTools() // The SDK learns each tool's taskSupport from it.
      // The timeout holds: the same run as a plain call times out on the client.
      await expect(s.client.callTool(
        {
          name: "start_task",
          arguments: { name: "plain-1", command: "python3", args: LONGER_THAN_TIMEOUT, waitFor: { exit: true } }
        },
        undefined,
        { timeout: CLIENT_TIMEOUT_MS }
      )).rejects.toThrow(/timed out/i)
      const statuses: Array<{ status: string; statusMessage?: string | undefined; ttl: number | null }> = []
      let result: CallToolResult | undefined
      const stream = s.client.experimental.tasks.callToolStream(
        {
          name: "start_task",
          arguments: {
            name: "build-1",
            command: "python3",
            args: LONGER_THAN_TIMEOUT,
            waitFor: { exit: true, timeoutMs: 600_000 }
          }
        },
        CallToolResultSchema,
        { task: { ttl: 600_000 }, timeout: CLIENT_TIMEOUT_MS }
      )
      for await (const message of stream) {
        if (message.type === "taskCreated" || message.type === "taskStatus") statuses.push(message.task)
        if (message.type === "result") result = message.result as CallToolResult
        if (message.type === "error") throw message.error
      }
      expect(statuses[0]).toMatchObject({ status: "working", ttl: 600_000 })
      expect(statuses.some((t) => t.status === "working" && /last line: step \d of 4/.test(t.statusMessage ?? "")))
        .toBe(true)
      expect(result!.structuredContent).toMatchObject({ name: "build-1", status: "exited", exitCode: 0, matched: true })
      expect((result!.structuredContent as { durationMs: number }).durationMs).toBeGreaterThan(2 * CLIENT_TIMEOUT_MS)
      expect(result!._meta).toMatchObject({ "io.modelcontextprotocol/related-task": { taskId: expect.any(String) } })
    } finally {
      await s.client.close()
    }
  }, 60_000)

  it(
    "2026-07-28, with the 2.x Client and ext-tasks: a task the server chose, its status, its result inlined",
    async () => {
      const s = await connectModern()
      try {
        // The timeout holds: the same run as a plain call (no Tasks extension asked for) times out.
        await expect(s.client.callTool(
          {
            name: "start_task",
            arguments: { name: "plain-2", command: "python3", args: LONGER_THAN_TIMEOUT, waitFor: { exit: true } }
          },
          { timeout: CLIENT_TIMEOUT_MS }
        )).rejects.toThrow(/timed out/i)
        const session = s.tasks()
        const execution = await session.callTool("start_task", {
          name: "build-2",
          command: "python3",
          args: LONGER_THAN_TIMEOUT,
          waitFor: { exit: true, timeoutMs: 600_000 }
        }, { requestTimeoutMs: CLIENT_TIMEOUT_MS })
        expect(execution.kind).toBe("task")
        const messages: Array<string> = []
        const { outcome } = await execution.settle({
          onEvent: (event) => {
            if (event.type === "task" && event.task.statusMessage !== undefined) messages.push(event.task.statusMessage)
          }
        })
        expect(messages.some((m) => /last line: step \d of 4/.test(m))).toBe(true)
        expect(outcome.status).toBe("completed")
        const result = (outcome as { result: CallToolResult }).result
        expect(result.structuredContent).toMatchObject({ name: "build-2", status: "exited", exitCode: 0 })
        expect((result.structuredContent as { durationMs: number }).durationMs).toBeGreaterThan(2 * CLIENT_TIMEOUT_MS)
        await session.close()
      } finally {
        await s.client.close()
      }
    },
    60_000
  )
})

describe("2025-11-25 tasks, with the 1.x SDK", () => {
  let s: Connected
  beforeAll(async () => {
    s = await connect()
    await s.client.listTools()
  })
  afterAll(async () => {
    await s.client.close()
  })

  /** Starts a call as a task and answers its id once created. */
  const startAsTask = async (name: string, args: Record<string, unknown>, ttl?: number) => {
    const stream = s.client.experimental.tasks.callToolStream(
      { name, arguments: args },
      CallToolResultSchema,
      { task: ttl === undefined ? {} : { ttl } }
    )
    const first = await stream[Symbol.asyncIterator]().next()
    const created = first.value as { type: string; task: { taskId: string; ttl: number | null; pollInterval?: number } }
    expect(created.type).toBe("taskCreated")
    return created.task
  }

  it("declares the utility: tasks capability, and task support on the tools that can wait", async () => {
    expect(s.client.getServerCapabilities()?.tasks).toEqual({ list: {}, cancel: {}, requests: { tools: { call: {} } } })
    const tools = (await s.client.listTools()).tools
    expect(tools.filter((t) => t.execution?.taskSupport === "optional").map((t) => t.name).sort()).toEqual([
      "restart_task",
      "start_task",
      "stop_task",
      "wait_for_task"
    ])
  })

  it("cancelling a run stops it, its whole tree (pid check); the task is cancelled and has no result", async () => {
    const task = await startAsTask("start_task", {
      name: "tree",
      command: "python3",
      args: TREE,
      waitFor: { exit: true }
    })
    const pids = await treeOf(s, "tree")
    expect(pids.every(isAlive)).toBe(true)
    const cancelled = await s.client.experimental.tasks.cancelTask(task.taskId)
    expect(cancelled).toMatchObject({ taskId: task.taskId, status: "cancelled" })
    // Answered once the run is over.
    expect(pids.filter(isAlive)).toEqual([])
    expect(await s.structured("get_task", { name: "tree" })).toMatchObject({ status: "stopped" })
    // Who stopped it is the cancel, not a stop_task nobody called.
    expect(await s.structured("wait_for_task", { name: "tree", exit: true })).toMatchObject({
      hint: "Stopped by tasks/cancel from taskmux-e2e."
    })
    await expect(s.client.experimental.tasks.cancelTask(task.taskId)).rejects.toMatchObject({
      code: -32602,
      message: expect.stringMatching(/terminal status 'cancelled'/)
    })
  })

  it("cancelling any other wait ends only the wait: the task goes on", async () => {
    await s.structured("start_task", { name: "server", command: "python3", args: TREE })
    const pids = await treeOf(s, "server")
    const task = await startAsTask("wait_for_task", { name: "server", pattern: "never printed", timeoutMs: 600_000 })
    expect((await s.client.experimental.tasks.getTask(task.taskId)).status).toBe("working")
    await s.client.experimental.tasks.cancelTask(task.taskId)
    expect(pids.every(isAlive)).toBe(true)
    await s.structured("stop_task", { name: "server" })
    expect(pids.filter(isAlive)).toEqual([])
  })

  it("tasks/result blocks until the end; tasks/list lists; an unknown or expired id is -32602; TTL reported and honoured", async () => {
    const task = await startAsTask("start_task", {
      name: "short",
      command: "sleep 1; echo done",
      waitFor: { exit: true }
    }, 1000)
    expect(task.ttl).toBe(1000)
    expect(task.pollInterval).toBeGreaterThan(0)
    const result = await s.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema)
    expect(result.structuredContent).toMatchObject({ status: "exited", exitCode: 0 })
    const listed = await s.client.experimental.tasks.listTasks()
    expect(listed.tasks.map((t) => t.taskId)).toContain(task.taskId)
    await expect(s.client.experimental.tasks.getTask("0123456789abcdef")).rejects.toMatchObject({ code: -32602 })
    // Kept for its TTL after it ended, then forgotten.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await expect(s.client.experimental.tasks.getTask(task.taskId)).rejects.toMatchObject({
      code: -32602,
      message: expect.stringMatching(/not found/)
    })
  })

  it("tasks/list pages by cursor, and a cursor it gave holds when the task it ended at is forgotten", async () => {
    // A session of its own: 55 tasks that fail at once, the 50th kept only a second after it ends.
    const own = await connect()
    try {
      const ids: Array<string> = []
      for (let i = 1; i <= 55; i++) {
        const stream = own.client.experimental.tasks.callToolStream(
          { name: "wait_for_task", arguments: { name: `none-${i}`, exit: true } },
          CallToolResultSchema,
          { task: { ttl: i === 50 ? 1000 : 600_000 } }
        )
        const first = await stream[Symbol.asyncIterator]().next()
        ids.push((first.value as { task: { taskId: string } }).task.taskId)
      }
      const first = await own.client.experimental.tasks.listTasks()
      expect(first.tasks.map((t) => t.taskId)).toEqual(ids.slice(0, 50))
      expect(first.nextCursor).toBeDefined()
      await until(async () => {
        const last = await own.client.experimental.tasks.getTask(ids[49]!).catch(() => undefined)
        return last === undefined || undefined
      }, 10_000)
      const second = await own.client.experimental.tasks.listTasks(first.nextCursor)
      expect(second.tasks.map((t) => t.taskId)).toEqual(ids.slice(50))
      expect(second.nextCursor).toBeUndefined()
      await expect(own.client.experimental.tasks.listTasks("not a cursor")).rejects.toMatchObject({ code: -32602 })
    } finally {
      await own.client.close()
    }
  })

  it("a tool that cannot wait refuses a task in a sentence; a tool's error fails its task with the reason", async () => {
    await expect(
      s.client.request(
        { method: "tools/call", params: { name: "list_tasks", arguments: {}, task: {} } },
        CallToolResultSchema
      )
    ).rejects.toMatchObject({
      code: -32601,
      message: expect.stringMatching(/list_tasks does not run as a task.*wait_for_task/)
    })
    const task = await startAsTask("wait_for_task", { name: "no-such-task", exit: true })
    const failed = await until(async () => {
      const now = await s.client.experimental.tasks.getTask(task.taskId)
      return now.status === "working" ? undefined : now
    })
    expect(failed).toMatchObject({ status: "failed", statusMessage: expect.stringMatching(/no-such-task/) })
  })
})

describe("a kept run as a protocol task", () => {
  it("outlives its client: the session's end cancels the wait, not the run", async () => {
    const project = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-kept-task-"))
    const env = {
      TASKMUX_ISOLATED: "false",
      XDG_RUNTIME_DIR: mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-kept-task-rt-")),
      TASKMUX_PROJECT: project
    }
    const first = await connect(env)
    await first.client.listTools()
    const stream = first.client.experimental.tasks.callToolStream(
      {
        name: "start_task",
        arguments: { name: "kept", command: "python3", args: TREE, keep: true, waitFor: { exit: true } }
      },
      CallToolResultSchema,
      { task: {} }
    )
    expect((await stream[Symbol.asyncIterator]().next()).value).toMatchObject({ type: "taskCreated" })
    const pids = await treeOf(first, "kept")
    await first.client.close()
    const second = await connect(env)
    try {
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(pids.every(isAlive)).toBe(true)
      expect(await second.structured("get_task", { name: "kept" })).toMatchObject({ status: "running" })
      await second.structured("stop_task", { name: "kept" })
    } finally {
      await second.client.close()
    }
  })
})

describe("2026-07-28 tasks, with the 2.x Client and ext-tasks", () => {
  let s: ModernConnected
  beforeAll(async () => {
    s = await connectModern()
  })
  afterAll(async () => {
    await s.client.close()
  })

  it("a call over within a second answers as itself; cancelling a run's task stops its tree (pid check)", async () => {
    const session = s.tasks()
    const quick = await session.callTool("start_task", { name: "quick", command: "echo hi", waitFor: { exit: true } })
    expect(quick.kind).not.toBe("task")
    const execution = await session.callTool("start_task", {
      name: "tree",
      command: "python3",
      args: TREE,
      waitFor: { exit: true }
    })
    expect(execution.kind).toBe("task")
    const pids = await treeOf({ call: (name, args) => s.client.callTool({ name, arguments: args }) }, "tree")
    await execution.cancel()
    await until(() => pids.filter(isAlive).length === 0 ? true : undefined)
    await session.close()
  })

  it(`calls that begin together become at most ${PER_SESSION} tasks; the rest answer as plain calls`, async () => {
    await s.client.callTool({ name: "start_task", arguments: { name: "held", command: "sleep 300" } })
    const session = s.tasks()
    const calls = await Promise.all(
      Array.from(
        { length: PER_SESSION + 30 },
        (_, i) => session.callTool("wait_for_task", { name: "held", pattern: `never ${i}`, timeoutMs: 3_000 })
      )
    )
    const asTasks = calls.filter((call) => call.kind === "task")
    expect(asTasks.length).toBeGreaterThan(0)
    expect(asTasks.length).toBeLessThanOrEqual(PER_SESSION)
    await Promise.all(asTasks.map((call) => call.cancel()))
    await session.close()
    await s.client.callTool({ name: "stop_task", arguments: { name: "held" } })
  }, 60_000)

  it("subscriptions/listen with taskIds: the task's changes as notifications/tasks, its result inlined", async () => {
    const withExtension = { extensions: { "io.modelcontextprotocol/tasks": {} } }
    const created = await s.raw("tools/call", {
      name: "start_task",
      arguments: { name: "heard", command: "sleep 2.5; echo finished", waitFor: { exit: true } }
    }, withExtension)
    expect(created).toMatchObject({
      kind: "result",
      result: { resultType: "task", status: "working", ttlMs: expect.any(Number) }
    })
    const taskId = (created as { result: { taskId: string } }).result.taskId
    const listening = new AbortController()
    const listen = s.raw(
      "subscriptions/listen",
      { notifications: { taskIds: [taskId, "nope"] } },
      withExtension,
      undefined,
      listening.signal
    )
    listen.catch(() => undefined)
    const ack = await until(() => s.heard.find((n) => n.method === "notifications/subscriptions/acknowledged"))
    expect(ack.params).toMatchObject({ notifications: { taskIds: [taskId] } })
    const done = await until(() => s.heard.find((n) => n.method === "notifications/tasks"), 15_000)
    const subscriptionId =
      (ack.params as { _meta: Record<string, unknown> })._meta["io.modelcontextprotocol/subscriptionId"]
    expect(done.params).toMatchObject({
      taskId,
      status: "completed",
      result: { resultType: "complete", structuredContent: { name: "heard", exitCode: 0 } },
      _meta: { "io.modelcontextprotocol/subscriptionId": subscriptionId }
    })
    listening.abort()
  })

  it("tasks/get names an unknown id (-32602) and a client without the extension (-32021)", async () => {
    const withExtension = { extensions: { "io.modelcontextprotocol/tasks": {} } }
    expect(await s.raw("tasks/get", { taskId: "0123456789abcdef" }, withExtension)).toMatchObject({
      kind: "error",
      error: { code: -32602, message: expect.stringMatching(/not found/) }
    })
    expect(await s.raw("tasks/get", { taskId: "0123456789abcdef" })).toMatchObject({
      kind: "error",
      error: { code: -32021, message: expect.stringMatching(/io.modelcontextprotocol\/tasks/) }
    })
    // Without the extension, a wait is a plain blocking call, as before.
    const plain = await s.raw("tools/call", {
      name: "start_task",
      arguments: { name: "blocking", command: "sleep 1.5", waitFor: { exit: true } }
    })
    expect(plain).toMatchObject({
      kind: "result",
      result: { resultType: "complete", structuredContent: { exitCode: 0 } }
    })
  })
})
