/**
 * A stand-in for a project's supervisor, for the CLI's tests: it listens on the project's socket,
 * answers the hello line with a welcome as the supervisor does, and joins every connection to ONE
 * isolated taskmux server (`TASKMUX_ISOLATED=1 node dist/main.js --project DIR`), so a task started over one connection
 * is seen over the next, as with the real supervisor. Request ids are rewritten per connection;
 * `initialize` is answered with the server's answer to the stand-in's own.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as NodePath from "node:path"
import { WIRE_PROTOCOL } from "../../src/daemon/hello.ts"
import { runtimePaths } from "../../src/daemon/runtimePaths.ts"

export const serverEntry = NodePath.resolve(import.meta.dirname, "../../dist/main.js")

export interface StandIn {
  readonly socket: string
  /** The isolated server's pid. */
  readonly serverPid: number
  /** Every tools/call the clients made, as they sent it. */
  readonly calls: Array<{ readonly tool: string; readonly args: Record<string, unknown> }>
  /** What the isolated server said on stderr (its log), for a failing test's message. */
  readonly serverStderr: () => string
  /** How many clients connected. */
  readonly connections: () => number
  readonly close: () => Promise<void>
}

type Message = Record<string, unknown>

/** The environment the isolated server and its tasks get: no PYTHONUNBUFFERED, a log dir of its own. */
export const serverEnv = (logDir: string): NodeJS.ProcessEnv => {
  const { PYTHONUNBUFFERED: _, ...env } = process.env
  // Isolated: the server itself, not a front that would look for a supervisor (this stand-in).
  return { ...env, TASKMUX_LOG_DIR: logDir, TASKMUX_ISOLATED: "1" }
}

export const startStandIn = async (project: string): Promise<StandIn> => {
  const paths = runtimePaths(project)
  const logDir = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-cli-logs-"))
  const server = spawn(process.execPath, [serverEntry, "--project", paths.project], {
    env: serverEnv(logDir),
    stdio: ["pipe", "pipe", "pipe"]
  })
  let serverStderr = ""
  server.stderr.on("data", (chunk: Buffer) => (serverStderr += chunk.toString("utf8")))
  const calls: Array<{ tool: string; args: Record<string, unknown> }> = []
  const clients = new Map<number, net.Socket>()
  /** Our id -> the client's connection and its own id. */
  const routes = new Map<string, { readonly client: number; readonly id: unknown }>()
  const ownAnswers = new Map<string, (result: Message) => void>()
  let connections = 0
  let keepKnown = false

  const toServer = (message: Message) => server.stdin.write(`${JSON.stringify(message)}\n`)
  const ask = (id: string, method: string, params: object) =>
    new Promise<Message>((resolve) => {
      ownAnswers.set(id, resolve)
      toServer({ jsonrpc: "2.0", id, method, params })
    })

  const lines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void) => {
    let buffered = ""
    stream.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8")
      for (let end = buffered.indexOf("\n"); end !== -1; end = buffered.indexOf("\n")) {
        const line = buffered.slice(0, end)
        buffered = buffered.slice(end + 1)
        if (line.trim() !== "") onLine(line)
      }
    })
  }

  lines(server.stdout, (line) => {
    const message = JSON.parse(line) as Message
    const id = message.id as string | undefined
    if (id !== undefined && typeof message.method !== "string") {
      const own = ownAnswers.get(id)
      if (own !== undefined) {
        ownAnswers.delete(id)
        return own(message)
      }
      const route = routes.get(id)
      routes.delete(id)
      const client = route === undefined ? undefined : clients.get(route.client)
      return client?.write(`${JSON.stringify({ ...message, id: route!.id })}\n`)
    }
    if (id !== undefined) return toServer({ jsonrpc: "2.0", id, result: {} })
    // Notifications (resources/updated, ...) go to every client; each picks its own.
    for (const client of clients.values()) client.write(`${line}\n`)
  })

  const initialized = await ask("standin:init", "initialize", {
    protocolVersion: "2025-11-25",
    capabilities: {},
    clientInfo: { name: "taskmux-cli-standin", version: "1" }
  })
  toServer({ jsonrpc: "2.0", method: "notifications/initialized" })
  const tools = await ask("standin:tools", "tools/list", {})
  // `keep` is new: with a server that does not know it yet, the CLI's `keep: true` is recorded, then dropped.
  const startTool = (tools.result as { tools: Array<{ name: string; inputSchema: { properties?: object } }> }).tools
    .find((t) => t.name === "start_task")
  keepKnown = startTool?.inputSchema.properties !== undefined && "keep" in startTool.inputSchema.properties

  const onClient = (socket: net.Socket) => {
    const n = ++connections
    let greeted = false
    lines(socket, (line) => {
      const message = JSON.parse(line) as Message
      if (!greeted) {
        greeted = true
        if (message.role !== "cli" && message.role !== "front") return socket.destroy()
        clients.set(n, socket)
        return socket.write(
          `${
            JSON.stringify({
              taskmux: "0.1.0",
              protocol: WIRE_PROTOCOL,
              pid: process.pid,
              project: paths.project,
              sessions: clients.size - 1,
              running: 0
            })
          }\n`
        )
      }
      if (message.method === "initialize") {
        return socket.write(`${JSON.stringify({ jsonrpc: "2.0", id: message.id, result: initialized.result })}\n`)
      }
      if (message.method === "notifications/initialized") return
      if (message.method === "notifications/cancelled") {
        const params = message.params as { requestId: unknown }
        return toServer({ ...message, params: { ...params, requestId: `${n}:${String(params.requestId)}` } })
      }
      if (message.id === undefined) return toServer(message)
      let params = message.params as Message | undefined
      if (message.method === "tools/call" && params !== undefined) {
        const args = (params.arguments ?? {}) as Record<string, unknown>
        calls.push({ tool: params.name as string, args })
        if (!keepKnown && "keep" in args) {
          const { keep: _, ...rest } = args
          params = { ...params, arguments: rest }
        }
      }
      const id = `${n}:${String(message.id)}`
      routes.set(id, { client: n, id: message.id })
      toServer({ ...message, id, ...(params !== undefined && { params }) })
    })
    socket.on("error", () => {})
    socket.on("close", () => clients.delete(n))
  }

  const listener = net.createServer(onClient)
  rmSync(paths.socket, { force: true })
  await new Promise<void>((resolve) => listener.listen(paths.socket, resolve))
  server.once("exit", () => listener.close())

  return {
    socket: paths.socket,
    serverPid: server.pid!,
    calls,
    serverStderr: () => serverStderr,
    connections: () => connections,
    close: async () => {
      listener.close()
      for (const client of clients.values()) client.destroy()
      if (server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((resolve) => server.once("exit", resolve))
        server.stdin.end()
        await exited
      }
      rmSync(paths.socket, { force: true })
    }
  }
}
