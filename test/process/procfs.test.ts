/**
 * The listening sockets of /proc/net/tcp: only LISTEN lines counted, whatever else the table holds, and
 * a big table (a busy machine's tens of thousands of connections) read once for a whole listing.
 */
import fc from "fast-check"
import { spawn } from "node:child_process"
import * as Net from "node:net"
import { describe, expect, it } from "vitest"
import {
  commandLine,
  listenersIn,
  listenerUidsIn,
  listeningSockets,
  peerUid,
  peerUidsIn
} from "../../src/process/procfs.ts"
import { withLoopbackConnection } from "../helpers.ts"

/** The table as the kernel writes it, with a line per socket: local address, state, uid, inode. */
const table = (rows: ReadonlyArray<{ v6: boolean; port: number; state: number; uid: number; inode: number }>) =>
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
  rows.map((r, i) => {
    const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, "0")
    const address = r.v6 ? "0".repeat(24) + "0100007F" : "0100007F"
    return `${String(i).padStart(4)}: ${address}:${hex(r.port, 4)} ${address.replace(/./g, "0")}:0000 ${
      hex(r.state, 2)
    } 00000000:00000000 00:00000000 00000000 ${
      String(r.uid).padStart(5)
    }        0 ${r.inode} 1 0000000000000000 100 0 0 10 0`
  }).join("\n") + "\n"

/** What the table says, line by line: the reference the scan must agree with. */
const reference = (text: string) => {
  const out = new Map<string, number>()
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f[3] !== "0A") continue
    out.set(f[9]!, parseInt(f[1]!.slice(f[1]!.lastIndexOf(":") + 1), 16))
  }
  return out
}

describe("procfs's socket table", () => {
  it("finds exactly the LISTEN lines of any table", () => {
    const row = fc.record({
      v6: fc.boolean(),
      port: fc.integer({ min: 1, max: 65535 }),
      // 0A is LISTEN; 01 ESTABLISHED, 06 TIME_WAIT and the rest are not.
      state: fc.constantFrom(0x01, 0x02, 0x06, 0x08, 0x0a, 0x0b),
      uid: fc.integer({ min: 0, max: 70000 }),
      inode: fc.integer({ min: 0, max: 2 ** 31 })
    })
    fc.assert(fc.property(fc.array(row, { maxLength: 60 }), (rows) => {
      const text = table(rows)
      expect(listenersIn(text)).toEqual(reference(text))
    }))
  })

  it("gives the uids of exactly the listeners on a port", () => {
    const row = fc.record({
      v6: fc.boolean(),
      port: fc.constantFrom(80, 8080, 20_480),
      state: fc.constantFrom(0x01, 0x06, 0x0a),
      uid: fc.integer({ min: 0, max: 70000 }),
      inode: fc.integer({ min: 0, max: 2 ** 31 })
    })
    fc.assert(fc.property(fc.array(row, { maxLength: 40 }), fc.constantFrom(80, 8080, 20_480), (rows, port) => {
      const listening = rows.filter((r) => r.state === 0x0a && r.port === port).map((r) => r.uid)
      expect(listenerUidsIn(table(rows), port)).toEqual(listening)
    }))
  })

  it.runIf(process.platform === "linux")("reads a table of thousands of connections once for a listing", async () => {
    const server = Net.createServer()
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const { port } = server.address() as Net.AddressInfo
    const sockets: Array<Net.Socket> = []
    try {
      for (let i = 0; i < 3_000; i++) {
        sockets.push(
          await new Promise<Net.Socket>((resolve, reject) => {
            const socket = Net.connect({ host: "127.0.0.1", port }, () => resolve(socket)).once("error", reject)
          })
        )
      }
      // A read of these 6,000 lines may take longer than the cache's age; the next look still has it.
      const first = listeningSockets(process.pid, 20)
      expect([...first.values()]).toContain(port)
      expect(listeningSockets(process.pid, 20)).toBe(first)
    } finally {
      for (const socket of sockets) socket.destroy()
      server.close()
    }
  }, 60_000)
})

describe("who connected, from /proc/net/tcp", () => {
  const row = (i: number, local: string, remote: string, state: string, uid: number) =>
    `${String(i).padStart(4)}: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000 ${
      String(uid).padStart(5)
    }        0 ${1000 + i} 1 0000000000000000 20 4 30 10 -1`
  const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

  it("is the uid of the peer's own socket: its port to ours, established; not ours, nor a closed one's", () => {
    const text = header + [
      // The listener, and our side of the connection (port 1F90 = 8080, from 0xC350 = 50000).
      row(0, "0100007F:1F90", "00000000:0000", "0A", 0),
      row(1, "0100007F:1F90", "0100007F:C350", "01", 0),
      // The peer's side, uid 1001.
      row(2, "0100007F:C350", "0100007F:1F90", "01", 1001),
      // An earlier connection on the same ports, closed (TIME_WAIT shows uid 0).
      row(3, "0100007F:C351", "0100007F:1F90", "06", 0),
      row(4, "0100007F:C351", "0100007F:1F91", "01", 7),
      // A peer that has sent its request and half-closed (FIN_WAIT2), uid 1002: still its.
      row(5, "0100007F:C352", "0100007F:1F90", "05", 1002)
    ].join("\n")
    expect(peerUidsIn(text, 50000, 8080)).toEqual([1001])
    expect(peerUidsIn(text, 50001, 8080)).toEqual([])
    expect(peerUidsIn(text, 50002, 8080)).toEqual([1002])
    expect(peerUidsIn(text, 50003, 8080)).toEqual([])
  })

  it.runIf(process.platform === "linux")("says this process's uid for a connection it made itself", async () => {
    await withLoopbackConnection(async (socket) => {
      expect(await peerUid(socket.remotePort!, socket.localPort!, process.getuid!())).toBe(process.getuid!())
    })
  })
})

describe("procfs's command lines", () => {
  it("quotes the controls a process put in its own command line (exec -a, process.title) instead of passing them on", async () => {
    const child = spawn("sleep", ["30"], { argv0: "evil\u001b]52;c;ZXZpbA==\u0007\u009d0;T\u009c", stdio: "ignore" })
    try {
      await new Promise((resolve) => child.once("spawn", resolve))
      // It says so once sleep has exec'd (the fork's line is node's).
      let line = ""
      for (let i = 0; i < 100 && !line.includes("30"); i++) {
        line = commandLine(child.pid!)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      expect(line).toBe("evil\\x1b]52;c;ZXZpbA==\\x07\\x9d0;T\\x9c 30")
    } finally {
      child.kill("SIGKILL")
    }
  })
})
