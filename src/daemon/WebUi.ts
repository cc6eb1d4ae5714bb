/**
 * The supervisor's web listener (the page, MCP over HTTP: src/web/): loaded and listening the first
 * time the person asks for it (`taskmux/ui`, which `taskmux ui` sends), never before; moved to another
 * address when asked for one; closed with the supervisor.
 */
import { type Context, Effect, type Scope } from "effect"
import * as net from "node:net"
import type { Params } from "../mcp/McpSession.ts"
import { invalidParams } from "../mcp/protocolError.ts"
import type { ToolEnv } from "../mcp/Tool.ts"
import type { Notifier } from "../supervisor/Notifier.ts"
import { listenAddress } from "../web/listenAddress.ts"
import { preferredPort } from "../web/projectPort.ts"
import type { WebServer } from "../web/WebServer.ts"
import { goneText, ownFileGone } from "./ownFiles.ts"
import type { RuntimePaths } from "./runtimePaths.ts"

export interface WebUi {
  /** Listens (the first time) where `params.listen` says, or moves there; the page's addresses. */
  readonly open: (params: Params | undefined) => Promise<{
    readonly url: string
    readonly openUrl: string
    readonly readOnly: boolean
    readonly pid: number
    readonly notice?: string
  }>
}

export const makeWebUi = (options: {
  readonly paths: Pick<RuntimePaths, "project" | "token">
  readonly context: Context.Context<ToolEnv | Notifier>
  /** Pages opened (1) or closed (-1). */
  readonly viewers: (change: number) => void
  /** A page was asked for: its browser has a while to come. */
  readonly asked: () => void
}): Effect.Effect<WebUi, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { context, paths } = options
    let web: Promise<WebServer> | undefined
    yield* Effect.addFinalizer(() => Effect.promise(async () => (await web?.catch(() => undefined))?.close()))
    const listenOn = (host: string, port: number) =>
      import("../web/openWeb.ts").then(({ openWeb }) =>
        openWeb({ host, port, project: paths.project, tokenFile: paths.token, viewers: options.viewers }, context)
      ).catch((error: Error) => {
        throw invalidParams(
          ownFileGone(error) ?
            goneText("its page") :
            `Cannot listen on ${host}:${port}: ${error.message}.${
              notHere(error)
                ? " That is not an address of this machine: give one of its own, such as 127.0.0.1:8080 or [::1]:8080."
                : ""
            }`
        )
      })
    const open = async (params: Params | undefined) => {
      const readOnly = params?.readOnly === true
      const address = listenAddress(params?.listen)
      if (typeof address === "string") throw invalidParams(address)
      const { host, port } = address
      const opened = web === undefined
      web ??= listenOn(host, port)
      let server = await web.catch((error: Error) => {
        web = undefined
        throw error
      })
      // Another port, or another address given as one (a name such as localhost is where it resolved).
      const elsewhere = (port !== 0 && server.port !== port) || (net.isIP(host) !== 0 && server.address !== host)
      if (!opened && params?.listen !== undefined && elsewhere) {
        // Asked for another address (an SSH tunnel's port): the page moves there, once it listens; the
        // token stays, and pages open on the old address lose it. With no port, the project's own, which
        // the old address holds: that goes first (else the project's port would look taken, by this very
        // supervisor, and the page would move to a port and a token of the system's), and comes back if
        // the new address cannot be had.
        const old = server
        const ownPort = port === 0 && old.port === preferredPort(paths.project, paths.token)
        if (ownPort) await old.close()
        const moved = await listenOn(host, port).catch(async (error: Error) => {
          if (ownPort) web = listenOn(old.address, old.port)
          throw error
        })
        web = Promise.resolve(server = moved)
        if (!ownPort) await old.close()
      }
      // The browser the CLI opens (or the person who reads the address) has a minute to come.
      options.asked()
      return {
        url: server.url(readOnly),
        openUrl: server.ticketUrl(readOnly),
        readOnly,
        pid: process.pid,
        ...(server.notice !== undefined && { notice: server.notice })
      }
    }
    return { open }
  })

/** A listen that failed for its address: a name nobody resolves, or an address this machine does not have. */
const notHere = (error: Error) =>
  ["ENOTFOUND", "EADDRNOTAVAIL", "EAI_AGAIN"].includes((error as NodeJS.ErrnoException).code ?? "")
