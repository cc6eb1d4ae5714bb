/** Launches the built server the way an MCP client does, and drives it with the SDK's Client. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { existsSync, mkdtempSync, writeFileSync } from "node:fs"
import * as Net from "node:net"
import * as os from "node:os"
import * as NodePath from "node:path"

export const serverEntry = NodePath.resolve(import.meta.dirname, "../../dist/main.js")

export interface Connected {
  readonly client: Client
  readonly transport: StdioClientTransport
  readonly pid: number
  readonly stderr: () => string
  /** Calls a tool and returns its result; `structuredContent` was checked against the outputSchema by the client. */
  readonly call: (name: string, args?: Record<string, unknown>) => Promise<CallToolResult>
  /** Calls a tool that must succeed, and returns its structured content. */
  readonly structured: <A>(name: string, args?: Record<string, unknown>) => Promise<A>
}

/** A server's environment as a real client gives it (a short one), with `env` on top. */
export const serverEnv = (env: Record<string, string> = {}): Record<string, string> => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: process.env.HOME ?? "/tmp",
  TASKMUX_LOG_DIR: mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-e2e-logs-")),
  TASKMUX_ISOLATED: "1",
  ...env
})

export const connect = async (
  env: Record<string, string> = {},
  args: ReadonlyArray<string> = [],
  /** Another build's entry (a copy of this one). */
  entry = serverEntry,
  /** Where the client starts it (else this process's directory). */
  cwd?: string,
  /** A command that runs it (`unshare … "$@"`, taking Node and its arguments after its own). */
  launcher: ReadonlyArray<string> = []
): Promise<Connected> => {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build (npm test does)`)
  const [command = process.execPath, ...before] = launcher.length === 0 ? [] : [...launcher, process.execPath]
  const transport = new StdioClientTransport({
    command,
    args: [...before, entry, ...args],
    env: serverEnv(env),
    stderr: "pipe",
    ...(cwd !== undefined && { cwd })
  })
  let stderr = ""
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const client = new Client({ name: "taskmux-e2e", version: "1.0.0" })
  await client.connect(transport)
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult
  const structured = async <A>(name: string, args: Record<string, unknown> = {}): Promise<A> => {
    const result = await call(name, args)
    if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`)
    return result.structuredContent as A
  }
  return { client, transport, pid: transport.pid!, stderr: () => stderr, call, structured }
}

export const textOf = (result: CallToolResult): string =>
  result.content.map((c) => (c.type === "text" ? c.text : "")).join("")

/**
 * Polls `check` until it returns a value, for at most `timeoutMs`. A check that throws is not met yet (a
 * file a process has yet to write): its last error is the failure's when time is up.
 */
export const until = async <A>(check: () => Promise<A | undefined> | A | undefined, timeoutMs = 10_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    let failed: unknown
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      failed = error
    }
    if (Date.now() > deadline) {
      if (failed !== undefined) throw failed
      throw new Error(`condition not met within ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Runs `body` with a server started with `env`, and closes it however `body` ends. */
export const withServer = async (body: (s: Connected) => Promise<void>, env: Record<string, string> = {}) => {
  const s = await connect(env)
  try {
    await body(s)
  } finally {
    await s.client.close()
  }
}

/** A TCP port on `host` that was free a moment ago. */
export const freePort = (host = "127.0.0.1") =>
  new Promise<number>((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, host, () => {
      const { port } = server.address() as Net.AddressInfo
      server.close(() => resolve(port))
    })
  })

/** Whether something accepts TCP connections on the port on 127.0.0.1: true, or undefined for until() to ask again. */
export const accepting = (port: number) =>
  new Promise<true | undefined>((resolve) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok || undefined)
    }
    socket.once("connect", () => done(true)).once("error", () => done(false))
  })

/** A new temporary directory holding `files`. */
export const tempDir = (files: Record<string, string>, prefix = "taskmux-test-") => {
  const dir = mkdtempSync(NodePath.join(os.tmpdir(), prefix))
  for (const [name, text] of Object.entries(files)) writeFileSync(NodePath.join(dir, name), text)
  return dir
}
