/**
 * Launches the built server the way an MCP 2026-07-28 client does, and drives it with the 2.x
 * TypeScript SDK's Client (`@modelcontextprotocol/client`), which checks every answer against its
 * revision's schemas; `tasks` is a Tasks-extension session over it (`@modelcontextprotocol/ext-tasks`).
 */
import { Client } from "@modelcontextprotocol/client"
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio"
import { createTaskSessionFromClient } from "@modelcontextprotocol/ext-tasks/client"
import { serverEntry, serverEnv } from "./client.ts"

export const clientInfo = { name: "taskmux-e2e-2026", version: "2.0.0" }

/** A raw request the Client's own codec would refuse (a task answer): ids of our own, answers matched here. */
type Answer = { kind: "result"; result: unknown } | { kind: "error"; error: { code: number; message: string } }
type Dispatch = (request: unknown, options?: { readonly signal?: AbortSignal }) => Promise<Answer>

const rawDispatchOf = (client: Client, heard: Array<Record<string, unknown>>): Dispatch => {
  const transport = client.transport!
  const pending = new Map<string, (answer: Answer) => void>()
  let next = 0
  const sdkOnMessage = transport.onmessage
  transport.onmessage = (message, extra) => {
    const m = message as { id?: unknown; method?: unknown; error?: never; result?: unknown }
    if (m.id === undefined && typeof m.method === "string") heard.push(m as Record<string, unknown>)
    const done = typeof m.id === "string" && m.method === undefined ? pending.get(m.id) : undefined
    if (done === undefined) return sdkOnMessage?.call(transport, message, extra)
    pending.delete(m.id as string)
    done("error" in m ? { kind: "error", error: m.error! } : { kind: "result", result: m.result })
  }
  return (request, options) =>
    new Promise((resolve, reject) => {
      const id = `raw-${++next}`
      const signal = options?.signal
      const onAbort = () => {
        pending.delete(id)
        void transport.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id } })
        reject(signal?.reason ?? new Error("aborted"))
      }
      signal?.addEventListener("abort", onAbort, { once: true })
      // The per-request timeout ext-tasks asks for (requestTimeoutMs), as the SDK's own requests have one.
      const timeoutMs = (options as { context?: { requestTimeoutMs?: number } } | undefined)?.context?.requestTimeoutMs
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
        pending.delete(id)
        signal?.removeEventListener("abort", onAbort)
        reject(new Error(`Request timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      pending.set(id, (answer) => {
        clearTimeout(timer)
        signal?.removeEventListener("abort", onAbort)
        resolve(answer)
      })
      transport.send({ jsonrpc: "2.0", id, ...request as object } as never).catch(reject)
    })
}

export const connectModern = async (
  env: Record<string, string> = {},
  negotiation: "pin" | "auto" = "pin",
  args: ReadonlyArray<string> = []
) => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverEntry, ...args],
    env: serverEnv(env),
    stderr: "pipe"
  })
  let stderr = ""
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const client = new Client(clientInfo, {
    capabilities: {},
    versionNegotiation: { mode: negotiation === "pin" ? { pin: "2026-07-28" } : "auto" }
  })
  await client.connect(transport)
  /** Every notification the server sent, as it came. */
  const heard: Array<Record<string, unknown>> = []
  const rawDispatch = rawDispatchOf(client, heard)
  const tasks = () =>
    createTaskSessionFromClient(client, {
      endpointId: "taskmux",
      rawDispatch: rawDispatch as never,
      v2RequestFraming: {
        protocolVersion: client.getNegotiatedProtocolVersion()!,
        clientInfo,
        clientCapabilities: {}
      }
    })
  /** A request as the revision frames it: its version and capabilities (`extensions` added) in `_meta`. */
  const raw = (
    method: string,
    params: Record<string, unknown> = {},
    capabilities: Record<string, unknown> = {},
    version = "2026-07-28",
    signal?: AbortSignal
  ) =>
    rawDispatch({
      method,
      params: {
        ...params,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": version,
          "io.modelcontextprotocol/clientCapabilities": capabilities,
          "io.modelcontextprotocol/clientInfo": clientInfo
        }
      }
    }, signal === undefined ? undefined : { signal })
  return { client, transport, pid: () => transport.pid!, stderr: () => stderr, tasks, raw, heard }
}

export type ModernConnected = Awaited<ReturnType<typeof connectModern>>
