/**
 * A sandbox that shows /proc but not its socket tables (/proc/net/tcp unreadable): who connected cannot
 * be told, which is said as it is without /proc (null: the token alone guards the page), not taken for a
 * stranger on loopback, which the page refuses.
 */
import { describe, expect, it, vi } from "vitest"
import { peerUid } from "../../src/process/procfs.ts"
import { withLoopbackConnection } from "../helpers.ts"

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
    await withLoopbackConnection(async (socket) => {
      expect(await peerUid(socket.remotePort!, socket.localPort!, process.getuid!())).toBeNull()
    })
  })
})
