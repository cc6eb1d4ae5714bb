/**
 * The supervisor's web listener: the page (`dist/ui`, built by Vite) and its API, started the first time
 * someone asks for it (`taskmux ui`) and loaded only then. Node's own HTTP server; every request is
 * judged first (guard.ts: Host, Origin, token), and answers carry a strict Content-Security-Policy.
 *
 * The page sees what the tools see: `/api/call` runs a tool of the tool table exactly as tools/call does;
 * `/api/events` and `/api/output` are Server-Sent Events read from the tasks at most ten times a second,
 * so a flood costs a viewer one bounded read per tick (the last 2000 lines; what it skipped is said), not
 * a queue that grows.
 *
 * Its parts: admission.ts (who gets in), webRouter.ts (where a request goes), pageAssets.ts (the page's
 * files), apiCall.ts (its tool calls), taskListStream.ts and outputStream.ts (its live streams, paced by
 * ticker.ts), mcpRoute.ts (/mcp), webListeners.ts (the sockets). Here they are put together.
 */
import { Context, Effect, Exit, FiberSet, Scope } from "effect"
import type { AddressInfo } from "node:net"
import { LostTasks } from "../daemon/LostTasks.ts"
import type { ToolEnv } from "../mcp/Tool.ts"
import { Project } from "../project/Project.ts"
import { Notifier } from "../supervisor/Notifier.ts"
import { TaskRegistry } from "../supervisor/TaskRegistry.ts"
import { admission } from "./admission.ts"
import { apiCall } from "./apiCall.ts"
import { builtUiDir } from "./builtUi.ts"
import { hostsFor, type Tokens } from "./guard.ts"
import { mcpRoute } from "./mcpRoute.ts"
import { outputStream } from "./outputStream.ts"
import { loadAssets } from "./pageAssets.ts"
import { pageRunner } from "./pageRunner.ts"
import { taskListStream } from "./taskListStream.ts"
import { webListeners } from "./webListeners.ts"
import { webRouter } from "./webRouter.ts"

export interface WebOptions {
  readonly host: string
  readonly port: number
  readonly tokens: Tokens
  /** A page started watching (+1) or stopped (-1): the supervisor stays while one watches. */
  readonly viewers: (change: 1 | -1) => void
}

export interface WebServer {
  readonly address: string
  readonly port: number
  /** The page's address with the token in it (read-only: the read-only token). */
  readonly url: (readOnly: boolean) => string
  /** An address that opens the page once, within a few minutes: for a browser's command line. */
  readonly ticketUrl: (readOnly: boolean) => string
  /** What a person should know of where it listens (the project's port was taken). */
  readonly notice?: string
  readonly close: () => Promise<void>
}

export const startWebServer = (options: WebOptions) =>
  Effect.gen(function*() {
    const context = yield* Effect.context<ToolEnv | Notifier>()
    const scope = yield* Scope.make()
    const run = pageRunner(context)
    // A page's live stream hears the notifier in a fiber of the listener's: its end ends them all.
    const runFork = yield* FiberSet.makeRuntime<never>().pipe(Scope.provide(scope))
    const registry = Context.get(context, TaskRegistry)
    let hosts: ReadonlySet<string> = new Set()
    const { admit, ticket } = admission(options.tokens)
    const mcp = mcpRoute(run, options.viewers)

    const handle = webRouter({
      admit,
      hosts: () => hosts,
      mcp: mcp.serve,
      call: apiCall(run),
      events: taskListStream({
        run,
        registry,
        project: Context.get(context, Project),
        notifier: Context.get(context, Notifier),
        runFork,
        viewers: options.viewers
      }),
      output: outputStream({
        run,
        registry,
        lostTask: (name) => Context.get(context, LostTasks).get(name),
        scope,
        viewers: options.viewers
      }),
      assets: loadAssets(builtUiDir())
    })

    const servers = yield* webListeners(options.host, options.port, handle)
    const server = servers[0]!
    const { address, port } = server.address() as AddressInfo
    hosts = hostsFor(address, port)
    const shown = address.includes(":") ? `[${address}]` : address
    return {
      address,
      port,
      url: (readOnly: boolean) =>
        `http://${shown}:${port}/?token=${readOnly ? options.tokens.readOnly : options.tokens.full}`,
      ticketUrl: (readOnly: boolean) => `http://${shown}:${port}/?ticket=${ticket(readOnly)}`,
      close: async () => {
        // MCP over HTTP says goodbye first (a 2026-07-28 listen is told it ends), then every connection goes.
        await mcp.farewell()
        await Promise.all(servers.map((one) => {
          one.closeAllConnections()
          return new Promise<void>((resolve) => one.close(() => resolve()))
        }))
        void Effect.runPromise(Scope.close(scope, Exit.void))
      }
    } satisfies WebServer
  })
