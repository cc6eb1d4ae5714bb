/**
 * JSON-RPC 2.0 over a supervisor's socket, one message per line as on MCP's stdio: requests matched to
 * their answers by id, notifications handed to a callback, the server's own requests (ping) answered.
 * Plain Node and small: the CLI must start fast, and the MCP SDK is heavy.
 */
import type * as net from "node:net"
import { StringDecoder } from "node:string_decoder"

/** An error answer: the server understood the request and refused it. */
export class RpcError extends Error {
  readonly code: number
  constructor(code: number, message: string) {
    super(message)
    this.code = code
  }
}

/** The connection ended before the answer came. */
export class ConnectionClosed extends Error {
  constructor() {
    super("the supervisor closed the connection")
  }
}

export interface JsonRpcClient {
  /** Sends a request; aborting `signal` sends MCP's `notifications/cancelled` and rejects. */
  readonly request: (method: string, params?: object, signal?: AbortSignal) => Promise<unknown>
  readonly notify: (method: string, params?: object) => void
  /** Ends the connection; pending requests reject with ConnectionClosed. */
  readonly close: () => void
  /** Settles once the connection has ended, whoever ended it. */
  readonly closed: Promise<void>
}

interface Pending {
  readonly resolve: (result: unknown) => void
  readonly reject: (error: Error) => void
}

export const makeJsonRpcClient = (
  socket: net.Socket,
  /** Bytes that arrived with the welcome line. */
  rest: Buffer,
  onNotification: (method: string, params: unknown) => void
): JsonRpcClient => {
  const pending = new Map<number, Pending>()
  const decoder = new StringDecoder("utf8")
  let buffered = ""
  let nextId = 1
  let ended = false

  const send = (message: object) => {
    if (!ended && socket.writable) socket.write(`${JSON.stringify(message)}\n`)
  }

  const onMessage = (message: Record<string, unknown>) => {
    const id = message.id
    if (typeof message.method === "string") {
      if (id === undefined) return onNotification(message.method, message.params)
      // The server asks something of us: MCP servers may ping; we offer nothing else.
      return send(
        message.method === "ping"
          ? { jsonrpc: "2.0", id, result: {} }
          : { jsonrpc: "2.0", id, error: { code: -32601, message: `the taskmux CLI has no ${message.method}` } }
      )
    }
    const waiter = typeof id === "number" ? pending.get(id) : undefined
    if (waiter === undefined) return
    pending.delete(id as number)
    const error = message.error as { code?: number; message?: string } | undefined
    if (error !== undefined) waiter.reject(new RpcError(error.code ?? -32603, error.message ?? "unknown error"))
    else waiter.resolve(message.result)
  }

  const onText = (text: string) => {
    buffered += text
    for (let end = buffered.indexOf("\n"); end !== -1; end = buffered.indexOf("\n")) {
      const line = buffered.slice(0, end).trim()
      buffered = buffered.slice(end + 1)
      if (line === "") continue
      try {
        onMessage(JSON.parse(line))
      } catch {
        // Not JSON: nothing a client can answer; the requests it concerned time out with the connection.
      }
    }
  }

  const closed = new Promise<void>((resolve) => {
    socket.once("close", () => {
      ended = true
      for (const waiter of pending.values()) waiter.reject(new ConnectionClosed())
      pending.clear()
      resolve()
    })
  })
  // A reset connection is reported by "close" too.
  socket.on("error", () => {})
  socket.on("data", (chunk: Buffer) => onText(decoder.write(chunk)))
  if (rest.length > 0) onText(decoder.write(rest))
  socket.resume()

  const request = (method: string, params?: object, signal?: AbortSignal) =>
    new Promise<unknown>((resolve, reject) => {
      if (ended) return reject(new ConnectionClosed())
      if (signal?.aborted) return reject(signal.reason)
      const id = nextId++
      const onAbort = () => {
        if (!pending.delete(id)) return
        send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id, reason: "cancelled" } })
        reject(signal!.reason)
      }
      signal?.addEventListener("abort", onAbort, { once: true })
      pending.set(id, {
        resolve: (result) => {
          signal?.removeEventListener("abort", onAbort)
          resolve(result)
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort)
          reject(error)
        }
      })
      send({ jsonrpc: "2.0", id, method, ...(params !== undefined && { params }) })
    })

  return {
    request,
    notify: (method, params) => send({ jsonrpc: "2.0", method, ...(params !== undefined && { params }) }),
    close: () => {
      socket.end()
      // A server that does not close its side still lets us go.
      setTimeout(() => socket.destroy(), 1000).unref()
    },
    closed
  }
}
