/**
 * One MCP session for row 14, in a process of its own as each assistant's client is: it starts a
 * server (`node ENTRY`: a front, or an isolated server; its environment in BENCH_FRONT_ENV), says it is
 * ready (with the server's pid), then does what the bench asks: `start` starts tasks t0, t1, …; `run`
 * calls `list_tasks` and `read_output` of a task in turn for that long and sends the time of each call
 * back; `close` closes the session and ends the process.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"

export type ToSession =
  | { readonly _tag: "Start"; readonly tasks: number }
  | { readonly _tag: "Run"; readonly ms: number; readonly task: string; readonly pauseMs: number }
  | { readonly _tag: "Close" }

export type FromSession =
  | { readonly _tag: "Ready"; readonly frontPid: number }
  | { readonly _tag: "Started" }
  | { readonly _tag: "Samples"; readonly list: Array<number>; readonly read: Array<number> }
  | { readonly _tag: "Failed"; readonly message: string }

const send = (message: FromSession) => process.send!(message)

const entry = process.argv[2]!
const transport = new StdioClientTransport({
  command: process.execPath,
  args: [entry],
  env: JSON.parse(process.env.BENCH_FRONT_ENV ?? "{}") as Record<string, string>,
  stderr: "ignore"
})
const client = new Client({ name: "taskmux-bench-session", version: "1" })

const timed = async (name: string, args: Record<string, unknown>) => {
  const t0 = performance.now()
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })
  const ms = performance.now() - t0
  if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content)}`)
  return ms
}

const run = async (ms: number, task: string, pauseMs: number) => {
  const list: Array<number> = []
  const read: Array<number> = []
  const until = performance.now() + ms
  while (performance.now() < until) {
    list.push(await timed("list_tasks", {}))
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs))
    read.push(await timed("read_output", { name: task, tail: 20 }))
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }
  return { list, read }
}

/** Tasks t0, t1, … (`echo`, then `sleep 600`), all at once (each start looks 100 ms for an early end). */
const start = (tasks: number) =>
  Promise.all(
    Array.from({ length: tasks }, (_, i) =>
      timed("start_task", { command: `echo task ${i}; exec sleep 600`, name: `t${i}`, notifyOnExit: false }))
  )

process.on("message", (message: ToSession) => {
  if (message._tag === "Close") {
    void client.close().finally(() => process.exit(0))
    return
  }
  if (message._tag === "Start") {
    start(message.tasks).then(
      () => send({ _tag: "Started" }),
      (error: unknown) => send({ _tag: "Failed", message: String(error) })
    )
    return
  }
  run(message.ms, message.task, message.pauseMs).then(
    (samples) => send({ _tag: "Samples", ...samples }),
    (error: unknown) => send({ _tag: "Failed", message: String(error) })
  )
})

try {
  await client.connect(transport)
  send({ _tag: "Ready", frontPid: transport.pid! })
} catch (error) {
  send({ _tag: "Failed", message: String(error) })
  process.exit(1)
}
