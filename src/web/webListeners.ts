/**
 * The listener's sockets: Node's HTTP servers on the address asked for (and on loopback, ::1 beside
 * 127.0.0.1), with the limits that keep the supervisor's descriptors for its tasks, and the check that
 * refuses another user of this machine before any request of theirs is answered.
 */
import { Effect } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as procfs from "../process/procfs.ts"
import { peerAllowed } from "./peerAllowed.ts"
import { fail } from "./securityHeaders.ts"

/** Connections at once: a page holds a few (its streams, its calls), MCP clients over HTTP one or two each. */
const MAX_CONNECTIONS = 256

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => Promise<unknown>

/** Listening on `host` and `port` (0: the system picks): the servers, the first on `host`, each serving `handle`. */
export const webListeners = (host: string, port: number, handle: Handler) => {
  /** Each connection's verdict: its peer is this user (or elsewhere, judged by its token). */
  const peers = new WeakMap<object, Promise<boolean>>()
  const admitted = async (request: http.IncomingMessage, response: http.ServerResponse) => {
    if (!(await (peers.get(request.socket) ?? true))) return request.socket.destroy()
    return handle(request, response)
  }

  const self = process.getuid?.()
  const makeServer = () => {
    const server = http.createServer({
      // A request whose headers dribble in (a slowloris) is given up after 10 s, and a whole request after
      // 30 s: each connection costs the supervisor a descriptor, which its tasks' spawns need too.
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      connectionsCheckingInterval: 2_000
    }, (request, response) => {
      admitted(request, response).catch((error: unknown) => {
        if (!response.headersSent) fail(response, 500, `Internal error: ${String(error)}`)
        else response.end()
      })
    })
    // However many connect, the supervisor keeps descriptors for its tasks (pages need a few each).
    server.maxConnections = MAX_CONNECTIONS
    // Another user of this machine is refused before any request of theirs is answered: the listener is one
    // user's, and a one-time address on a browser's command line (which every user can read) is theirs to race for.
    // The check reads /proc off the event loop; no request of the connection is answered, or acted on,
    // before it (admitted awaits it). One from loopback whose socket cannot be found is not let in unknown.
    server.on("connection", (socket) => {
      if (self === undefined || socket.remotePort === undefined || socket.localPort === undefined) return
      const verdict = procfs.peerUid(socket.remotePort, socket.localPort, self).then((peer) => {
        const ok = peerAllowed(peer, self, socket.remoteAddress)
        if (!ok) socket.destroy()
        return ok
      })
      peers.set(socket, verdict)
    })
    return server
  }
  const listenOn = (server: http.Server, port: number, host: string) =>
    Effect.callback<void, Error>((resume) => {
      server.once("error", (error) => resume(Effect.fail(error)))
      server.listen(port, host, () => resume(Effect.void))
    })
  // Loopback's other address too, on the same port, for a client that tries ::1 first (localhost); where
  // the machine has no IPv6, 127.0.0.1 serves alone. Another program on that port there would be given
  // the token by such a client: the port is as taken as 127.0.0.1's would be (see openWeb), and one the
  // system picked is picked again.
  return Effect.gen(function*() {
    for (let attempt = 1;; attempt++) {
      const server = makeServer()
      yield* listenOn(server, port, host)
      if (host !== "127.0.0.1") return [server]
      const picked = (server.address() as AddressInfo).port
      const six = makeServer()
      // Clients mostly come by 127.0.0.1: the descriptors kept for tasks' spawns stay about as many.
      six.maxConnections = MAX_CONNECTIONS / 4
      const failed = yield* listenOn(six, picked, "::1").pipe(
        Effect.as(undefined),
        Effect.catch((error) => Effect.succeed(error as NodeJS.ErrnoException))
      )
      if (failed === undefined) return [server, six]
      if (failed.code !== "EADDRINUSE") return [server]
      server.close()
      if (port !== 0 || attempt === 5) {
        return yield* Effect.fail(failed)
      }
    }
  })
}
