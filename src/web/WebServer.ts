/**
 * The supervisor's web listener: the page (`dist/ui`, built by Vite) and its API, started the first time
 * someone asks for it (`taskmux ui`) and loaded only then. Node's own HTTP server; every request is
 * judged first (guard.ts: Host, Origin, token), and answers carry a strict Content-Security-Policy.
 *
 * The page sees what the tools see: `/api/call` runs a tool of the tool table exactly as tools/call does;
 * `/api/events` and `/api/output` are Server-Sent Events read from the tasks at most ten times a second,
 * so a flood costs a viewer one bounded read per tick (the last 2000 lines; what it skipped is said), not
 * a queue that grows.
 */
import { Context, Effect, Exit, FiberSet, PubSub, Scope } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { LostTasks } from "../daemon/LostTasks.ts"
import { goneText, ownFileGone } from "../daemon/ownFiles.ts"
import { ErrorCode } from "../mcp/protocolError.ts"
import type { ToolEnv } from "../mcp/Tool.ts"
import { tools } from "../mcp/toolTable.ts"
import { cleanLastLines } from "../output/fileTail.ts"
import * as procfs from "../process/procfs.ts"
import { Project } from "../project/Project.ts"
import { Notifier } from "../supervisor/Notifier.ts"
import { TaskRegistry } from "../supervisor/TaskRegistry.ts"
import { builtUiDir } from "./builtUi.ts"
import { HEADER, hostsFor, judge, pagePath, type Tokens } from "./guard.ts"
import type { McpHttp } from "./McpHttp.ts"
import { loadAssets, pageAsset } from "./pageAssets.ts"
import { pageRunner } from "./pageRunner.ts"
import { peerAllowed } from "./peerAllowed.ts"
import { BodyTooLarge, MAX_BODY, readJsonBody } from "./readJsonBody.ts"
import { fail, securityHeaders } from "./securityHeaders.ts"
import { sse } from "./sse.ts"
import { ticker } from "./ticker.ts"
import { ticketBook } from "./ticketBook.ts"

/** How many of a lost task's last lines its log file gives the page. */
const LOST_LINES = 200

/** A stream of output sends at most the last this many lines per tick; the rest it says it skipped. */
const MAX_LINES = 2000
/**
 * Its first tick, what the page keeps (ui/src/outputView.ts): a task opened after it printed 10,000 lines
 * is no flood, and its search should find what the page can hold.
 */
const FIRST_LINES = 5000
/**
 * How often the task list is sent even when nothing ended (memory, CPU and uptime move), as `top` does:
 * each send looks at every process in /proc, which a page left open pays for all day. A page takes a
 * stream without one for 10 s as dead (SILENT_MS in ui/src/httpBackend.ts).
 */
const REFRESH_MS = 3000

/** How long a browser the CLI starts has to open its one-time address. */
const TICKET_MS = 3 * 60_000

/** Connections at once: a page holds a few (its streams, its calls), MCP clients over HTTP one or two each. */
const MAX_CONNECTIONS = 256

/** Tools the page may call when read-only. */
const READ_TOOLS = new Set(["list_tasks", "get_task", "read_output"])

const toolsByName = new Map(tools.map((tool) => [tool.name, tool]))

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

/** OAuth's discovery and registration (RFC 9728, RFC 8414, OpenID, RFC 7591), which taskmux does not offer. */
const OAUTH_PATH = /^\/(?:\.well-known\/(?:oauth-|openid-)|mcp\/\.well-known\/|register$|token$|authorize$)/
const NO_OAUTH = "taskmux has no OAuth: MCP at /mcp takes the supervisor's token as Authorization: Bearer TOKEN " +
  "(taskmux ui --print prints it; the project's .token file beside the supervisor's socket holds it). A token " +
  "from before that file was deleted no longer works."

/** The project file's dependencies: each task's names it needs first. */
const graphOf = (project: Project["Service"]) =>
  Effect.map(project.current, (state): Record<string, ReadonlyArray<string>> =>
    Object.fromEntries(
      [...state.file?.tasks ?? new Map()].map(([name, task]) => [name, Object.keys(task.dependsOn ?? {})])
    ))

export const startWebServer = (options: WebOptions) =>
  Effect.gen(function*() {
    const context = yield* Effect.context<ToolEnv | Notifier>()
    const scope = yield* Scope.make()
    const run = pageRunner(context)
    // A page's live stream hears the notifier in a fiber of the listener's: its end ends them all.
    const runFork = yield* FiberSet.makeRuntime<never>().pipe(Scope.provide(scope))
    const registry = Context.get(context, TaskRegistry)
    const project = Context.get(context, Project)
    const notifier = Context.get(context, Notifier)
    const assets = loadAssets(builtUiDir())
    let hosts: ReadonlySet<string> = new Set()

    const callTool = async (name: unknown, args: unknown, readOnly: boolean, signal: AbortSignal) => {
      const tool = typeof name === "string" ? toolsByName.get(name) : undefined
      if (tool === undefined) {
        const tools = `the tools are ${[...toolsByName.keys()].join(", ")}`
        return typeof name === "string"
          ? { status: 404, body: { error: `No tool ${JSON.stringify(name)}: ${tools}.` } }
          : {
            status: 400,
            body: { error: `The body needs "tool" (a tool's name) and "arguments" (an object): ${tools}.` }
          }
      }
      if (readOnly && !READ_TOOLS.has(tool.name)) {
        return { status: 403, body: { error: `This page is read-only: ${tool.name} is refused.` } }
      }
      // A read-only link may be shared more widely than the full one: no environment values through it.
      if (
        readOnly && typeof args === "object" && args !== null && (args as { envValues?: unknown }).envValues === true
      ) {
        return {
          status: 403,
          body: { error: "This page is read-only: environment values (they may hold secrets) need the full token." }
        }
      }
      // What the person starts from the page is theirs to keep: it outlives any conversation.
      const given = typeof args === "object" && args !== null ? args : {}
      const request = tool.name === "start_task" ? { ...given, keep: true } : given
      return { status: 200, body: { result: await run(tool.call(request, {}), signal, readOnly) } }
    }

    /**
     * The task list as list_tasks gives it, each running or ended task with the figures a table shows
     * beside it (CPU, restarts, how its last run ended), and the project's dependency graph.
     */
    const snapshot = async () => {
      const listed = await run(toolsByName.get("list_tasks")!.call({}, {}))
      const vitals = new Map((await run(registry.vitals)).map(({ name, ...figures }) => [name, figures]))
      const { tasks, ...rest } = listed.structuredContent as { tasks: ReadonlyArray<{ name: string }> }
      return {
        ...rest,
        tasks: tasks.map((task) => ({ ...task, ...vitals.get(task.name) })),
        graph: await run(graphOf(project))
      }
    }

    const events = (request: http.IncomingMessage, response: http.ServerResponse, url: URL) => {
      const send = sse(response)
      const tick = ticker(response, async () => void send("tasks", await snapshot()))
      // A hidden page's list (`hidden=1`) is sent when tasks change, without the figures that move anyway.
      const refresh = url.searchParams.get("hidden") === "1" ? undefined : setInterval(tick.mark, REFRESH_MS)
      // Each task event (started, ended, added, removed) marks the list.
      const listening = runFork(Effect.scoped(
        Effect.flatMap(notifier.subscribe, (events) => Effect.forever(Effect.map(PubSub.take(events), tick.mark)))
      ))
      options.viewers(1)
      request.once("close", () => {
        tick.stop()
        clearInterval(refresh)
        listening.interruptUnsafe()
        options.viewers(-1)
      })
    }

    const output = async (request: http.IncomingMessage, response: http.ServerResponse, url: URL) => {
      const name = url.searchParams.get("name") ?? ""
      let cursor = Math.max(0, Number(url.searchParams.get("since") ?? 0) || 0)
      // Heard from the start: a viewer gone during the awaits below must not leave its watch behind.
      const closed = new Promise((resolve) => request.once("close", resolve))
      const info = await run(Effect.option(registry.get(name)))
      if (info._tag === "None") {
        // A task the last supervisor lost (or left ended): its last lines, from its log file, once.
        const lost = Context.get(context, LostTasks).get(name)
        const send = sse(response)
        // Removed (a reconnect after its stream ended, a session's end): said as the stream says it, so the
        // page stops asking instead of retrying a 404 until its list catches up.
        if (lost === undefined) {
          send("gone", {})
          return response.end()
        }
        const lines = cleanLastLines(lost.logFile, LOST_LINES)
        send("lines", {
          lines: lines.map((text, i) => ({ seq: i + 1, text })),
          nextCursor: lines.length,
          skipped: 0
        })
        return
      }
      // Its terminal's size, or null for pipes: a task started anew under the name may differ (see reset).
      let terminal = info.value.terminal
      const send = sse(response)
      let tail = FIRST_LINES
      // The screen last sent: the same is not sent again (its redraw would clear what the person selected).
      let shown = ""
      const tick = ticker(response, async () => {
        const page = await run(
          Effect.option(registry.read(name, { since: cursor, tail, maxBytes: 512 * 1024, shown: false }))
        )
        tail = MAX_LINES
        if (page._tag === "None") {
          send("gone", {})
          return
        }
        const { lines, nextCursor } = page.value
        if (nextCursor < cursor) {
          // Started anew under the same name: its output begins again (the read gave it from its start).
          send("reset", {})
          cursor = 0
          shown = ""
          const now = await run(Effect.option(registry.get(name)))
          if (now._tag === "Some") terminal = now.value.terminal
        }
        const first = lines[0]?.seq
        const skipped = first === undefined ? 0 : Math.max(0, first - cursor - 1)
        if (lines.length > 0 || skipped > 0) {
          send("lines", {
            lines: lines.map((line) => ({
              seq: line.seq,
              text: line.text,
              ...(line.stream !== "stdout" && { stream: line.stream }),
              ...(line.run !== undefined && { run: line.run }),
              // A prompt still waiting for its newline: sent again, whole, when it has one.
              ...(line.partial === true && { partial: true })
            })),
            nextCursor,
            skipped
          })
        }
        cursor = Math.max(cursor, nextCursor)
        if (terminal !== null) {
          // What `taskmux attach` draws first: the page's emulator shows the colours, modes and cursor with it.
          const screen = await run(Effect.option(registry.screen(name, { redraw: true })))
          const redraw = screen._tag === "Some" ? screen.value.redraw ?? "" : undefined
          const key = `${terminal.cols}x${terminal.rows} ${redraw}`
          if (redraw !== undefined && key !== shown) {
            shown = key
            send("screen", { redraw, ...terminal })
          }
        }
      })
      // Each change of the task marks the stream; the watch ends with the viewer's request.
      const watching = await run(Scope.fork(scope))
      await run(Effect.ignore(Scope.provide(registry.watch(name, tick.mark), watching)))
      options.viewers(1)
      void closed.then(() => {
        tick.stop()
        void run(Scope.close(watching, Exit.void))
        options.viewers(-1)
      })
    }

    /** MCP over HTTP (McpHttp.ts), loaded with the first request to /mcp. */
    let mcpHttp: Promise<McpHttp> | undefined

    /** One-time tickets for a browser the CLI opens: the token itself never goes on a command line. */
    const tickets = ticketBook(TICKET_MS)
    const ticketToken = (ticket: string | null) => {
      const readOnly = tickets.take(ticket)
      return readOnly === undefined ? null : readOnly ? options.tokens.readOnly : options.tokens.full
    }
    /** Each page's path, and whether it is the read-only one. */
    const pages = new Map([[pagePath(options.tokens.full), false], [pagePath(options.tokens.readOnly), true]])

    /** Each connection's verdict: its peer is this user (or elsewhere, judged by its token). */
    const peers = new WeakMap<object, Promise<boolean>>()

    const handle = async (request: http.IncomingMessage, response: http.ServerResponse) => {
      if (!(await (peers.get(request.socket) ?? true))) return request.socket.destroy()
      const url = new URL(request.url ?? "/", "http://listener")
      const changes = request.method === "POST"
      const mcp = url.pathname === "/mcp"
      const bearer = /^Bearer +(\S+)\s*$/i.exec(mcp ? request.headers.authorization ?? "" : "")?.[1]
      // The page lives under its token's path (see pagePath); the rest of the API is reached with the header.
      const page = /^\/p\/[0-9a-f]+\//.exec(url.pathname)?.[0]
      const verdict = judge(
        {
          method: request.method ?? "GET",
          host: request.headers.host,
          origin: request.headers.origin,
          cookie: request.headers.cookie,
          header: bearer ?? (typeof request.headers[HEADER] === "string" ? request.headers[HEADER] : undefined),
          query: url.pathname === "/"
            ? url.searchParams.has("ticket")
              ? ticketToken(url.searchParams.get("ticket"))
              : url.searchParams.get("token")
            : mcp
            ? url.searchParams.get("token")
            : null,
          changes,
          mcp
        },
        options.tokens,
        hosts
      )
      if (!verdict.ok) {
        // A client refused at /mcp (a token from before the .token file was deleted) that looks for OAuth,
        // as mcp-remote and the Inspector do: told there is none and what /mcp takes, not the page's 401
        // about a header it never heard of.
        if (verdict.status === 401 && OAUTH_PATH.test(url.pathname)) return fail(response, 404, NO_OAUTH)
        if (mcp && verdict.status === 401) {
          response.setHeader("WWW-Authenticate", `Bearer realm="taskmux"`)
        }
        // The link `taskmux ui` gave a browser works once: said so, rather than to open an address it never printed.
        const usedTicket = url.pathname === "/" && url.searchParams.has("ticket") && verdict.status === 401
        return fail(
          response,
          verdict.status,
          usedTicket
            ? `This one-time link was used already, or is over ${TICKET_MS / 60_000} minutes old: run taskmux ui again.`
            : verdict.error
        )
      }
      if (page !== undefined && !pages.has(page)) {
        return fail(response, 404, "No page here: open the address taskmux ui printed.")
      }
      if (page !== undefined && pages.get(page) !== verdict.readOnly) {
        return fail(response, 401, "No valid token for this page: open the address taskmux ui printed.")
      }
      if (mcp) {
        mcpHttp ??= import("./McpHttp.ts")
          .then(({ startMcpHttp }) => run(startMcpHttp({ viewers: options.viewers })))
          .catch((error: unknown) => {
            mcpHttp = undefined
            throw error
          })
        const served = await mcpHttp.catch((error: unknown) => {
          if (ownFileGone(error)) return undefined
          throw error
        })
        if (served === undefined) {
          response.writeHead(503, {
            ...securityHeaders,
            "Content-Type": "application/json",
            "Cache-Control": "no-store"
          })
          return response.end(JSON.stringify({
            jsonrpc: "2.0",
            id: null,
            error: { code: ErrorCode.InternalError, message: goneText("MCP over HTTP") }
          }))
        }
        return served.handle(request, response)
      }
      if (request.method !== "GET" && request.method !== "POST") {
        response.setHeader("Allow", "GET, POST")
        return fail(response, 405, `${request.method} is not served here: GET the page, POST /api/call.`)
      }
      if (!changes && url.pathname === "/") {
        // The page is at its own path, with its cookie; the address bar keeps no token.
        response.writeHead(303, {
          ...securityHeaders,
          Location: pagePath(verdict.readOnly ? options.tokens.readOnly : options.tokens.full),
          "Cache-Control": "no-store",
          ...(verdict.setCookie !== undefined && { "Set-Cookie": verdict.setCookie })
        })
        return response.end()
      }
      const path = page === undefined ? url.pathname : url.pathname.slice(page.length - 1)
      if (changes) {
        if (path !== "/api/call") return fail(response, 404, `Nothing to POST at ${path}: POST /api/call.`)
        if (!(request.headers["content-type"] ?? "").startsWith("application/json")) {
          return fail(response, 415, "POST /api/call takes Content-Type: application/json.")
        }
        const body = await readJsonBody(request).catch((error: Error) => error)
        if (body instanceof BodyTooLarge) {
          response.setHeader("Connection", "close")
          return fail(
            response,
            413,
            `POST /api/call: the body is over ${MAX_BODY >> 20} MiB (send_input takes 1 MiB at a time).`
          )
        }
        if (body instanceof Error) return fail(response, 400, `POST /api/call: ${body.message}.`)
        const { arguments: args, tool } = (typeof body === "object" && body !== null ? body : {}) as {
          tool?: unknown
          arguments?: unknown
        }
        // A viewer that goes away (a closed tab, an aborted fetch) takes its call with it: a wait ends
        // then, rather than at its timeout with nobody to answer.
        const gone = new AbortController()
        response.once("close", () => {
          if (!response.writableFinished) gone.abort()
        })
        const answer = await callTool(tool, args, verdict.readOnly, gone.signal)
        response.writeHead(answer.status, {
          ...securityHeaders,
          "Content-Type": "application/json",
          "Cache-Control": "no-store"
        })
        return response.end(JSON.stringify(answer.body))
      }
      // Whether this page's token is taken, for a page whose stream failed: answered, ended, nothing opened.
      if (path === "/api/ping") {
        response.writeHead(204, { ...securityHeaders, "Cache-Control": "no-store" })
        return response.end()
      }
      if (path === "/api/events") return events(request, response, url)
      if (path === "/api/output") return output(request, response, url)
      const asset = pageAsset(
        assets,
        path,
        verdict.readOnly ? options.tokens.readOnly : options.tokens.full,
        verdict.readOnly
      )
      if (!asset.found) return fail(response, 404, asset.error)
      response.writeHead(200, asset.headers)
      response.end(asset.body)
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
        handle(request, response).catch((error: unknown) => {
          if (!response.headersSent) fail(response, 500, `Internal error: ${String(error)}`)
          else response.end()
        })
      })
      // However many connect, the supervisor keeps descriptors for its tasks (pages need a few each).
      server.maxConnections = MAX_CONNECTIONS
      // Another user of this machine is refused before any request of theirs is answered: the listener is one
      // user's, and a one-time address on a browser's command line (which every user can read) is theirs to race for.
      // The check reads /proc off the event loop; no request of the connection is answered, or acted on,
      // before it (handle awaits it). One from loopback whose socket cannot be found is not let in unknown.
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
    const listenAll = Effect.gen(function*() {
      for (let attempt = 1;; attempt++) {
        const server = makeServer()
        yield* listenOn(server, options.port, options.host)
        if (options.host !== "127.0.0.1") return [server]
        const port = (server.address() as AddressInfo).port
        const six = makeServer()
        // Clients mostly come by 127.0.0.1: the descriptors kept for tasks' spawns stay about as many.
        six.maxConnections = MAX_CONNECTIONS / 4
        const failed = yield* listenOn(six, port, "::1").pipe(
          Effect.as(undefined),
          Effect.catch((error) => Effect.succeed(error as NodeJS.ErrnoException))
        )
        if (failed === undefined) return [server, six]
        if (failed.code !== "EADDRINUSE") return [server]
        server.close()
        if (options.port !== 0 || attempt === 5) {
          return yield* Effect.fail(failed)
        }
      }
    })
    const servers = yield* listenAll
    const server = servers[0]!
    const { address, port } = server.address() as AddressInfo
    hosts = hostsFor(address, port)
    const shown = address.includes(":") ? `[${address}]` : address
    return {
      address,
      port,
      url: (readOnly: boolean) =>
        `http://${shown}:${port}/?token=${readOnly ? options.tokens.readOnly : options.tokens.full}`,
      ticketUrl: (readOnly: boolean) => `http://${shown}:${port}/?ticket=${tickets.issue(readOnly)}`,
      close: async () => {
        // MCP over HTTP says goodbye first (a 2026-07-28 listen is told it ends), then every connection goes.
        const mcp = await mcpHttp?.catch(() => undefined)
        await mcp?.farewell()
        void mcp?.close()
        await Promise.all(servers.map((one) => {
          one.closeAllConnections()
          return new Promise<void>((resolve) => one.close(() => resolve()))
        }))
        void Effect.runPromise(Scope.close(scope, Exit.void))
      }
    } satisfies WebServer
  })
