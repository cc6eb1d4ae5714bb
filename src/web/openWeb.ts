/**
 * Starts the supervisor's web listener with a new token (256 random bits, written 0600 beside the socket
 * for whoever else needs it, such as a client configured by URL). The one module the supervisor imports
 * when a page is first asked for: the HTTP stack and the page come with it.
 */
import { type Context, Effect } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import type { ToolEnv } from "../mcp/Tool.ts"
import type { Notifier } from "../supervisor/Notifier.ts"
import { tokensOf } from "./guard.ts"
import { startWebServer, type WebServer } from "./WebServer.ts"

export interface OpenOptions {
  readonly host: string
  readonly port: number
  readonly tokenFile: string
  readonly viewers: (change: 1 | -1) => void
}

export const openWeb = (options: OpenOptions, context: Context.Context<ToolEnv | Notifier>): Promise<WebServer> => {
  const token = randomBytes(32).toString("hex")
  fs.rmSync(options.tokenFile, { force: true })
  fs.writeFileSync(options.tokenFile, `${token}\n`, { mode: 0o600, flag: "wx" })
  return Effect.runPromise(
    startWebServer({ host: options.host, port: options.port, tokens: tokensOf(token), viewers: options.viewers }).pipe(
      Effect.provideContext(context)
    )
  )
}
