/**
 * A sandbox that shows /proc but not its socket tables (/proc/net/tcp unreadable): who connected cannot
 * be told, which is said as it is without /proc (null: the token alone guards the page), not taken for a
 * stranger on loopback, which the page refuses.
 */
import * as Net from "node:net"
import { describe, expect, it, vi } from "vitest"
import { peerUid } from "../../src/process/procfs.ts"

vi.mock("node:fs/promises", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs/promises")>()
  return {
    ...real,
    readFile: ((path: string, ...rest: Array<never>) =>
      /\/net\/tcp6?$/.test(String(path))
        ? Promise.reject(Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: "EACCES" }))
        : (real.readFile as (...args: Array<unknown>) => Promise<unknown>)(path, ...rest)) as typeof real.readFile
  }
})

describe.runIf(process.platform === "linux")("who connected, where the socket tables cannot be read", () => {
  it("cannot be told (null), rather than unknown on loopback", async () => {
    const server = Net.createServer()
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const { port } = server.address() as Net.AddressInfo
    const accepted = new Promise<Net.Socket>((resolve) => server.once("connection", resolve))
    const client = Net.connect({ host: "127.0.0.1", port })
    const socket = await accepted
    try {
      expect(await peerUid(socket.remotePort!, socket.localPort!, process.getuid!())).toBeNull()
    } finally {
      client.destroy()
      server.close()
    }
  })
})
