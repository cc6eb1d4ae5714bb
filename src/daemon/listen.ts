/**
 * The supervisor's socket: listening on it, reachable by this user only; a dead supervisor's socket
 * file is replaced.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as NodePath from "node:path"
import { removeOwn } from "./fileIdentity.ts"

/**
 * Bound under a name of its own and renamed into place: closing a server unlinks the path it was bound
 * to (libuv does), and that path may be another supervisor's socket by then (see Daemon.ts's stayReachable).
 */
export const listen = (path: string, accept: (socket: net.Socket) => void) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly server: net.Server; readonly remove: () => void }>((resume) => {
      // Shorter than the socket's own name (a unix socket's path has a limit of 104 to 108 bytes).
      const bound = NodePath.join(NodePath.dirname(path), `.${process.pid}.bind`)
      fs.rmSync(bound, { force: true })
      // Half-open: a front whose client closed its input still takes the answers on their way (see Daemon.ts).
      const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, accept)
      server.once("error", (error) => resume(Effect.die(error)))
      // The socket file is made in listen's own call: the umask is back before any other fiber (a task's
      // spawn, which would inherit it) runs. In a 0700 directory, and chmod'ed below, it is private anyway.
      const umask = process.umask(0o077)
      try {
        server.listen(bound, onListening)
      } finally {
        process.umask(umask)
      }
      function onListening() {
        try {
          fs.chmodSync(bound, 0o600)
          // Holding the lock, this is the only supervisor: a socket file left there is a dead one's.
          fs.renameSync(bound, path)
        } catch (error) {
          // Its directory going meanwhile, say: a defect to retry, not an exception that ends the process.
          server.close()
          return resume(Effect.die(error))
        }
        resume(Effect.succeed({ server, remove: removeOwn(path) }))
      }
    }),
    ({ remove, server }) =>
      Effect.sync(() => {
        server.close()
        remove()
      })
  )
