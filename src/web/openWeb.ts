/**
 * Starts the supervisor's web listener. The one module the supervisor imports when a page is first asked
 * for: the HTTP stack and the page come with it.
 *
 * The token (256 random bits) lives in a 0600 file beside the socket, and is kept across supervisor starts,
 * as is the port (one derived from the project's path, when free): a client configured with the address
 * (MCP by URL) works again once a supervisor serves the page again. Deleting the file makes a new token.
 */
import { type Context, Effect } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import type { ToolEnv } from "../mcp/Tool.ts"
import { listenerUids } from "../process/procfs.ts"
import type { Notifier } from "../supervisor/Notifier.ts"
import { tokensOf } from "./guard.ts"
import { portFileOf, preferredPort, projectPort } from "./projectPort.ts"
import { startWebServer, type WebServer } from "./WebServer.ts"

export interface OpenOptions {
  readonly host: string
  /** 0: the project's own port if free, else one the system picks. */
  readonly port: number
  readonly project: string
  readonly tokenFile: string
  readonly viewers: (change: 1 | -1) => void
}

/** The token in the file, if it is ours alone and well-formed; else a new one, written 0600. */
const tokenIn = (file: string): string => {
  try {
    const stat = fs.lstatSync(file)
    const text = fs.readFileSync(file, "utf8").trim()
    if (stat.isFile() && stat.uid === process.getuid?.() && (stat.mode & 0o077) === 0 && /^[0-9a-f]{64}$/.test(text)) {
      return text
    }
  } catch {
    // None yet.
  }
  return newToken(file)
}

/** A new token, written 0600 in place of the old one. */
const newToken = (file: string): string => {
  const token = randomBytes(32).toString("hex")
  fs.rmSync(file, { force: true })
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600, flag: "wx" })
  return token
}

/**
 * Whether every listener on `port` (IPv4 or IPv6) is this user's, where /proc tells (Linux): another
 * project's page, a dev server of theirs. Undefined where it cannot tell.
 */
const heldByThisUser = (port: number): boolean | undefined => {
  const uids = listenerUids(port)
  return uids === undefined || uids.length === 0 ? undefined : uids.every((uid) => uid === process.getuid?.())
}

/** The project's next ports, tried in turn where the first is taken, before one the system picks. */
const ATTEMPTS = 8

export const openWeb = (options: OpenOptions, context: Context.Context<ToolEnv | Notifier>): Promise<WebServer> => {
  const start = (port: number, tokens = tokensOf(tokenIn(options.tokenFile))) =>
    startWebServer({ host: options.host, port, tokens, viewers: options.viewers }).pipe(Effect.provideContext(context))
  if (options.port !== 0) return Effect.runPromise(start(options.port))
  const own = preferredPort(options.project, options.tokenFile)
  const taken = (error: unknown) => (error as NodeJS.ErrnoException).code === "EADDRINUSE"
  const remember = (server: WebServer) =>
    Effect.sync(() => {
      try {
        fs.writeFileSync(portFileOf(options.tokenFile), `${server.port}\n`, { mode: 0o600 })
      } catch {
        // Not remembered: the next start tries the project's own port first again.
      }
      return server
    })
  return Effect.runPromise(
    start(own).pipe(
      // Another program holds the port. This user's (another project's page, whose port derived from its path is
      // the same, or a dev server of theirs): the token stays, as a client configured with this address gives
      // it to one of the user's own programs, which any of them could read from its file anyway. Anyone
      // else's: a new token, so a token given there opens nothing here. Then the project's next ports in turn,
      // the same ones at each start, before one the system picks. (Any other failure is said as it is.)
      Effect.catchIf(taken, () => {
        const ours = heldByThisUser(own) === true
        const tokens = ours ? tokensOf(tokenIn(options.tokenFile)) : tokensOf(newToken(options.tokenFile))
        const next = (attempt: number): Effect.Effect<WebServer, unknown> => {
          const port = attempt > ATTEMPTS ? 0 : projectPort(options.project, attempt)
          return port === own ? next(attempt + 1) : start(port, tokens).pipe(
            Effect.catchIf((error) => port !== 0 && taken(error), () => next(attempt + 1))
          )
        }
        return Effect.map(next(1), (server): WebServer => ({
          ...server,
          notice: ours
            ? `The project's port ${own} is taken by another program of yours (another project's page, whose port ` +
              `is the same, or a server): the page and /mcp are on port ${server.port}, with the same token, and ` +
              `stay there. A client configured with the old address needs the new port (taskmux ui --print).`
            : `The project's own port ${own} is taken by another program: the page and /mcp are on port ` +
              `${server.port}, with a new token. A client configured with the old address needs the new one ` +
              `(taskmux ui --print).`
        }))
      }),
      Effect.flatMap(remember)
    )
  )
}
