import { mkdtempSync } from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as NodePath from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { ConnectionClosed, makeJsonRpcClient, RpcError } from "../../src/cli/JsonRpcClient.ts"

/** A server side that records what it got, line by line, and lets the test answer. */
const pair = async () => {
  const path = NodePath.join(mkdtempSync(NodePath.join(os.tmpdir(), "rpc-")), "s.sock")
  const received: Array<Record<string, unknown>> = []
  let peer: net.Socket | undefined
  const server = net.createServer((socket) => {
    peer = socket
    let buffered = ""
    socket.on("data", (chunk) => {
      buffered += chunk.toString()
      for (let end = buffered.indexOf("\n"); end !== -1; end = buffered.indexOf("\n")) {
        received.push(JSON.parse(buffered.slice(0, end)))
        buffered = buffered.slice(end + 1)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(path, resolve))
  const socket = net.createConnection(path)
  await new Promise((resolve) => socket.once("connect", resolve))
  while (peer === undefined) await new Promise((resolve) => setTimeout(resolve, 5))
  return { server, socket, peer, received }
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  expect(check()).toBe(true)
}

let cleanup: Array<() => void> = []
afterEach(() => {
  for (const f of cleanup) f()
  cleanup = []
})

describe("JsonRpcClient", () => {
  it("matches answers to requests, whatever the chunks, and hands on notifications", async () => {
    const { peer, received, server, socket } = await pair()
    cleanup.push(() => server.close())
    const notes: Array<[string, unknown]> = []
    // The welcome's leftovers may already hold a message.
    const rest = Buffer.from(`{"jsonrpc":"2.0","method":"early","params":{"n":0}}\n`)
    const rpc = makeJsonRpcClient(socket, rest, (method, params) => notes.push([method, params]))
    cleanup.push(() => rpc.close())
    const a = rpc.request("a", { x: 1 })
    const b = rpc.request("b")
    await until(() => received.length === 2)
    expect(received).toEqual([
      { jsonrpc: "2.0", id: 1, method: "a", params: { x: 1 } },
      { jsonrpc: "2.0", id: 2, method: "b" }
    ])
    // Answers out of order, split mid-character ("é" is two bytes).
    const text = Buffer.from(
      `{"jsonrpc":"2.0","id":2,"result":"café"}\n{"jsonrpc":"2.0","method":"n","params":1}\n` +
        `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"bad"}}\n`
    )
    const cut = text.indexOf(0xc3) + 1
    peer.write(text.subarray(0, cut))
    await new Promise((resolve) => setTimeout(resolve, 10))
    peer.write(text.subarray(cut))
    expect(await b).toBe("café")
    await expect(a).rejects.toEqual(new RpcError(-32602, "bad"))
    expect(notes).toEqual([["early", { n: 0 }], ["n", 1]])
  })

  it("answers the server's ping, and refuses its other requests", async () => {
    const { peer, received, server, socket } = await pair()
    cleanup.push(() => server.close())
    const rpc = makeJsonRpcClient(socket, Buffer.alloc(0), () => {})
    cleanup.push(() => rpc.close())
    peer.write(`{"jsonrpc":"2.0","id":"p","method":"ping"}\n{"jsonrpc":"2.0","id":7,"method":"roots/list"}\n`)
    await until(() => received.length === 2)
    expect(received[0]).toEqual({ jsonrpc: "2.0", id: "p", result: {} })
    expect(received[1]).toMatchObject({ id: 7, error: { code: -32601 } })
  })

  it("cancels an aborted request with MCP's notifications/cancelled", async () => {
    const { received, server, socket } = await pair()
    cleanup.push(() => server.close())
    const rpc = makeJsonRpcClient(socket, Buffer.alloc(0), () => {})
    cleanup.push(() => rpc.close())
    const abort = new AbortController()
    const pending = rpc.request("tools/call", { name: "wait_for_task" }, abort.signal)
    abort.abort(new Error("stop"))
    await expect(pending).rejects.toThrow("stop")
    await until(() => received.length === 2)
    expect(received[1]).toEqual({
      jsonrpc: "2.0",
      method: "notifications/cancelled",
      params: { requestId: 1, reason: "cancelled" }
    })
  })

  it("rejects pending requests when the connection ends", async () => {
    const { peer, server, socket } = await pair()
    cleanup.push(() => server.close())
    const rpc = makeJsonRpcClient(socket, Buffer.alloc(0), () => {})
    const pending = rpc.request("slow")
    peer.destroy()
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosed)
    await rpc.closed
    await expect(rpc.request("late")).rejects.toBeInstanceOf(ConnectionClosed)
  })
})
