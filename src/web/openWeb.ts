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
import type { Notifier } from "../supervisor/Notifier.ts"
import { tokensOf } from "./guard.ts"
import { projectPort } from "./projectPort.ts"
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

export const openWeb = (options: OpenOptions, context: Context.Context<ToolEnv | Notifier>): Promise<WebServer> => {
  const start = (port: number, tokens = tokensOf(tokenIn(options.tokenFile))) =>
    startWebServer({ host: options.host, port, tokens, viewers: options.viewers }).pipe(Effect.provideContext(context))
  if (options.port !== 0) return Effect.runPromise(start(options.port))
  const own = projectPort(options.project)
  return Effect.runPromise(
    start(own).pipe(
      // Another program holds the project's port: whoever it is, a client configured with this address
      // would give it the token. A new token, then, so a token given there opens nothing here. (Any other
      // failure, an address that is no one's, is said as it is.)
      Effect.catchIf((error) => (error as NodeJS.ErrnoException).code === "EADDRINUSE", () =>
        Effect.map(
          start(0, tokensOf(newToken(options.tokenFile))),
          (server): WebServer => ({
            ...server,
            notice: `The project's own port ${own} is taken by another program: the page and /mcp are on port ` +
              `${server.port}, with a new token. A client configured with the old address needs the new one ` +
              `(taskmux ui --print).`
          })
        ))
    )
  )
}
