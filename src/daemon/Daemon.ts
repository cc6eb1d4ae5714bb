/**
 * The project's supervisor, serving every session at once: it holds the project's lock (one supervisor
 * per user and project), listens on a socket in the user's private directory, and serves each
 * connection as an MCP session of its own over the shared tasks. A session's own tasks end with it;
 * kept ones go on. With no session left, no page open and no task running it lingers a moment (a
 * reconnect finds it) and ends. Its web listener (the page, MCP over HTTP: src/web/) starts the first
 * time a session asks for it (`taskmux/ui`, which `taskmux ui` sends), and is loaded only then.
 */
import { Cause, Context, Deferred, Effect, Exit, Layer, PubSub, Schedule, Scope } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import { fileURLToPath } from "node:url"
import packageJson from "../../package.json" with { type: "json" }
import { TaskmuxConfig } from "../Config.ts"
import { serveSession } from "../mcp/McpServer.ts"
import type { McpSession, Params } from "../mcp/McpSession.ts"
import { invalidParams } from "../mcp/protocolError.ts"
import { DRAIN_MS, StdioTransport } from "../mcp/StdioTransport.ts"
import type { ToolEnv } from "../mcp/Tool.ts"
import { endSessionTasks } from "../project/endSessionTasks.ts"
import { Notifier } from "../supervisor/Notifier.ts"
import { TaskRegistry } from "../supervisor/TaskRegistry.ts"
import { listenAddress } from "../web/listenAddress.ts"
import { preferredPort } from "../web/projectPort.ts"
import type { WebServer } from "../web/WebServer.ts"
import { collectSoon } from "./collectSoon.ts"
import { READY_FD } from "./connect.ts"
import { identityOf, sameFile } from "./fileIdentity.ts"
import { type FrontOptions, frontOptionsReader } from "./frontOptions.ts"
import { BUILD, type Hello, readGreeting, type Welcome, WIRE_PROTOCOL } from "./hello.ts"
import { holdLock } from "./holdLock.ts"
import { isHello } from "./isHello.ts"
import { keepPrivate } from "./keepPrivate.ts"
import { listen } from "./listen.ts"
import { LostTasks } from "./LostTasks.ts"
import { goneText, ownFileGone } from "./ownFiles.ts"
import { ensurePrivateDir, type RuntimePaths } from "./runtimePaths.ts"

/** Set by the front that started this supervisor; taken out before any task could inherit it. */
const readyFd = process.env.TASKMUX_READY_FD
delete process.env.TASKMUX_READY_FD

/** How long a supervisor with nothing to do waits for a session before it ends. */
const LINGER_MS = 3_000
const lingerMs = () => lingerOf(process.env.TASKMUX_LINGER_MS) ?? LINGER_MS
/** TASKMUX_LINGER_MS as a whole number of ms, 0 or more; undefined when it is not one. */
const lingerOf = (value: string | undefined) => {
  const ms = value === undefined || value.trim() === "" ? undefined : Number(value)
  return ms !== undefined && Number.isInteger(ms) && ms >= 0 ? ms : undefined
}

/**
 * Before its first session it waits at least this long, whatever the linger: the front that started it
 * connects once it listens (and gives up after 10 s), and must find it there.
 */
const FIRST_SESSION_MS = 10_000
/** How long it waits for a page someone asked for (taskmux ui) to be opened. */
const PAGE_GRACE_MS = 60_000

/** The file this code runs from, as it was at start-up: a rebuild or an upgrade replaces or removes it. */
const ownFile = fileURLToPath(import.meta.url)
const ownStat = fs.statSync(ownFile, { throwIfNoEntry: false })
const replacedOnDisk = () => {
  const now = fs.statSync(ownFile, { throwIfNoEntry: false })
  return ownStat !== undefined && (now === undefined || now.ino !== ownStat.ino || now.mtimeMs !== ownStat.mtimeMs)
}

export class Daemon extends Context.Service<Daemon, {
  /** Completes when the supervisor should end. */
  readonly done: Effect.Effect<void>
}>()("taskmux/Daemon") {
  /** `args`: the options it was started with (good, or it would not have started). */
  static readonly layer = (
    paths: RuntimePaths,
    args: ReadonlyArray<string> = []
  ): Layer.Layer<Daemon, Error, ToolEnv | Notifier> =>
    Layer.effect(
      Daemon,
      Effect.gen(function*() {
        const layerScope = yield* Effect.scope
        /**
         * Acquires `resource` in a scope of its own within `home`, so that it can be replaced (see
         * stayReachable), with the identity of the file it made at `file`.
         */
        const acquireIn = (home: Scope.Scope, resource: Effect.Effect<unknown, Error, Scope.Scope>, file: string) =>
          Effect.gen(function*() {
            const scope = yield* Scope.fork(home, "sequential")
            yield* Effect.onError(Scope.provide(resource, scope), () => Scope.close(scope, Exit.void))
            return { scope, file: identityOf(file) }
          })
        // The lock's home is made here, and the socket's where it listens, so that an end lets go of the
        // socket first and of the lock last, however often either was made again.
        const lockHome = yield* Scope.fork(layerScope, "sequential")
        const acquireLock = acquireIn(lockHome, holdLock(paths.lock, paths.project), paths.lock)
        let lock = yield* acquireLock
        // Only the lock's holder reads what the last supervisor left and keeps the record.
        yield* (yield* LostTasks).begin
        const registry = yield* TaskRegistry
        const context = yield* Effect.context<ToolEnv | Notifier>()
        const done = yield* Deferred.make<void>()
        /** Once ending, a new connection is refused (before any welcome), so its front starts a new supervisor. */
        let ending = false
        const end = (why: string) => {
          if (!ending) process.stderr.write(`taskmux: supervisor ending: ${why}\n`)
          ending = true
          Deferred.doneUnsafe(done, Exit.void)
        }
        const frontOptions = frontOptionsReader(yield* TaskmuxConfig, args, process.env)
        let sessions = 0
        let linger: ReturnType<typeof setTimeout> | undefined
        const firstSessionBy = performance.now() + FIRST_SESSION_MS
        let served = false
        const lingerSetting = process.env.TASKMUX_LINGER_MS
        if (lingerSetting !== undefined && lingerOf(lingerSetting) === undefined) {
          yield* Effect.logWarning(
            `TASKMUX_LINGER_MS=${lingerSetting}: expected a whole number of ms, 0 or more; waiting ${LINGER_MS} ms`
          )
        }

        /** Pages open (their live streams); and until when a page just asked for keeps it waiting for its browser. */
        let pageViewers = 0
        let pageGraceUntil = 0

        /** Nothing connected and nothing running: end after the linger, unless someone comes. */
        const idleCheck = Effect.flatMap(registry.running, (running) =>
          Effect.sync(() => {
            clearTimeout(linger)
            const idle = sessions === 0 && pageViewers === 0 && running.all === 0
            const waitMs = Math.max(
              lingerMs(),
              pageGraceUntil - performance.now(),
              served ? 0 : firstSessionBy - performance.now()
            )
            linger = idle ? setTimeout(() => end("no session, page or running task"), waitMs) : undefined
          }))
        yield* Effect.addFinalizer(() => Effect.sync(() => clearTimeout(linger)))

        // The page and its listener are loaded the first time someone asks for them (taskmux ui), never before.
        let web: Promise<WebServer> | undefined
        yield* Effect.addFinalizer(() => Effect.promise(async () => (await web?.catch(() => undefined))?.close()))
        const listenOn = (host: string, port: number) =>
          import("../web/openWeb.ts").then(({ openWeb }) =>
            openWeb({
              host,
              port,
              project: paths.project,
              tokenFile: paths.token,
              viewers: (change) => {
                pageViewers += change
                Effect.runFork(Effect.provideContext(idleCheck, context))
              }
            }, context)
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
        const openUi = async (params: Params | undefined) => {
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
          pageGraceUntil = performance.now() + PAGE_GRACE_MS
          return {
            url: server.url(readOnly),
            openUrl: server.ticketUrl(readOnly),
            readOnly,
            pid: process.pid,
            ...(server.notice !== undefined && { notice: server.notice })
          }
        }

        // A task's end may leave the supervisor with nothing to do.
        const events = yield* (yield* Notifier).subscribe
        yield* PubSub.take(events).pipe(Effect.flatMap(() => idleCheck), Effect.forever, Effect.forkScoped)

        const sessionsScope = yield* Scope.make("parallel")
        yield* Effect.addFinalizer(() => Scope.close(sessionsScope, Exit.void))

        const serve = (socket: net.Socket, rest: Buffer, caller: Hello, options: FrontOptions) =>
          Effect.gen(function*() {
            const scope = yield* Scope.fork(sessionsScope, "sequential")
            const closed = yield* Deferred.make<void>()
            socket.once("close", () => Deferred.doneUnsafe(closed, Exit.void))
            if (socket.destroyed) Deferred.doneUnsafe(closed, Exit.void)
            socket.on("error", () => socket.destroy())
            // Its client closed its input (the front half-closed): the calls under way are answered, then
            // the session ends, as a server alone does.
            let served: McpSession | undefined
            socket.once("end", () => {
              void (served?.settled(DRAIN_MS) ?? Promise.resolve()).then(() => socket.end())
            })
            const viewer = yield* serveSession(
              new StdioTransport(socket, socket, true),
              options.notice,
              (session) => {
                served = session
                // The page is the person's to open (taskmux ui): an assistant's session may not move it to
                // another interface and take its token, past any approval its client asks per tool.
                if (caller.role === "cli") session.handle("taskmux/ui", (params) => openUi(params))
              },
              { env: caller.env, cwd: caller.cwd, policy: options.policy }
            ).pipe(Scope.provide(scope))
            if (rest.length > 0) socket.unshift(rest)
            socket.resume()
            yield* Deferred.await(closed)
            // A finalizer of the session failing (a bug, said in the log) does not keep its tasks running.
            yield* Effect.ignoreCause(Scope.close(scope, Exit.void), { log: true })
            // Its own tasks end with it (whole trees), and are forgotten; their logs stay.
            yield* endSessionTasks(viewer.id)
            collectSoon()
          }).pipe(
            Effect.ensuring(Effect.suspend(() => {
              sessions--
              return idleCheck
            }))
          )

        const welcome = (extra: Partial<Welcome>) =>
          Effect.map(registry.running, (running): Welcome => ({
            taskmux: packageJson.version,
            protocol: WIRE_PROTOCOL,
            pid: process.pid,
            project: paths.project,
            sessions,
            running: running.all,
            build: BUILD,
            answersCursor: true,
            answersQueries: true,
            ...(pageViewers > 0 && { viewers: pageViewers }),
            ...extra
          }))

        /** A caller whose greeting is in: its options checked, then its session served. */
        const take = (socket: net.Socket, hello: Hello, rest: Buffer, note?: string) => {
          // Of this protocol, but not a Hello's shape (a stray script, a prober): its connection goes.
          if (!isHello(hello)) return socket.destroy()
          // A front's options: refused, or its session's fence and what it does not get of its own.
          // The CLI brings no flags: its fence is the person's own variables (none: no fence).
          const options = frontOptions(hello.args ?? [], hello.env, hello.cwd)
          const { refused } = options
          if (refused !== undefined) {
            Effect.runPromise(Effect.provideContext(welcome({ refused }), context)).then((w) => {
              socket.end(`${JSON.stringify(w)}\n`)
            }, () => socket.destroy())
            return
          }
          const notice = [note, options.notice].filter((n) => n !== undefined).join(" ") || undefined
          sessions++
          served = true
          clearTimeout(linger)
          Effect.runFork(
            Effect.flatMap(
              welcome({ ...(notice !== undefined && { notice }), ...(note !== undefined && { stale: note }) }),
              (w) =>
                Effect.suspend(() => {
                  socket.write(`${JSON.stringify({ ...w, sessions: sessions - 1 })}\n`)
                  return serve(socket, rest, hello, { ...options, ...(notice !== undefined && { notice }) })
                })
            ).pipe(Effect.provideContext(context))
          )
        }
        /** Said to a caller of a newer build this one serves, busy: what may fail, and how to end it. */
        const staleBuild = `This supervisor (pid ${process.pid}) runs a build of taskmux that has since been ` +
          "replaced on disk (rebuilt or upgraded), and has tasks running: it serves this session, but what it " +
          `loads when first needed may fail. End it when its tasks may stop (kill ${process.pid}): the next ` +
          "client starts a current one."

        const accept = (socket: net.Socket) => {
          if (ending) return socket.destroy()
          socket.on("error", () => socket.destroy())
          // A caller gone before its greeting (killed as it started), or silent: its connection goes. Half
          // open, as the listener keeps connections, it was kept for the supervisor's life, a descriptor each.
          const gone = () => socket.destroy()
          socket.once("end", gone)
          const silent = setTimeout(gone, GREETING_MS)
          readGreeting<Hello>(socket, (hello, rest) => {
            clearTimeout(silent)
            socket.off("end", gone)
            if (hello === undefined || ending) return socket.destroy()
            // A caller of another build, where this one's own files were replaced since it started (a rebuild,
            // an upgrade): the files it loads when first needed have new names. Another install beside this
            // one (npx and a checkout) leaves them as they were, and shares it.
            const otherBuild = hello.build !== undefined && hello.build !== BUILD && replacedOnDisk()
            if (hello.protocol !== WIRE_PROTOCOL || otherBuild) {
              Effect.runPromise(Effect.provideContext(welcome({}), context)).then((w) => {
                // An open page or MCP-over-HTTP session is a session too: it would lose its supervisor.
                const idle = w.sessions === 0 && w.running === 0 && (w.viewers ?? 0) === 0
                // Another protocol: never mis-speak. Make way for the caller's build when nothing would be lost.
                if (idle || hello.protocol !== WIRE_PROTOCOL) {
                  socket.end(`${JSON.stringify({ ...w, replacing: idle })}\n`)
                  if (idle) {
                    end(
                      `making way for a taskmux of ${
                        hello.protocol !== WIRE_PROTOCOL ? `wire protocol ${hello.protocol}` : "another build"
                      }`
                    )
                  }
                  return
                }
                take(socket, hello, rest, staleBuild)
              }).catch(() => socket.destroy())
              return
            }
            take(socket, hello, rest)
          })
          // Accepted paused (pauseOnConnect): nothing is read before the greeting's reader is there.
          socket.resume()
        }

        const listenerHome = yield* Scope.fork(layerScope, "sequential")
        const acquireListener = acquireIn(listenerHome, listen(paths.socket, accept), paths.socket)
        let listening = yield* acquireListener
        sayReady()
        process.stderr.write(
          `taskmux: supervisor ${packageJson.version} (build ${BUILD}, Node ${process.versions.node}) listening at ` +
            `${paths.socket}${args.length > 0 ? `; options: ${args.join(" ")}` : ""}\n`
        )
        yield* idleCheck

        // Its socket file removed (a cleaner of /tmp, an rm), or its whole directory: it listens again,
        // under the lock again, within seconds, where the directory can be made again. Else no client
        // would reach it, and the next one would start a second supervisor beside it. (A client in
        // between starts one anyway: this one then listens again once that one has ended.)
        let lastProblem: string | undefined
        /** Each problem once, not every few seconds for as long as it lasts. */
        const sayOnce = (problem: string) =>
          Effect.suspend(() => {
            if (problem === lastProblem) {
              return Effect.void
            }
            lastProblem = problem
            return Effect.logWarning(problem)
          })
        const stayReachable = Effect.gen(function*() {
          if (ending) return
          if (sameFile(identityOf(paths.socket), listening.file)) {
            // Only the user may reach it, as the modes made at its start say: a chmod since (a careless
            // one, a restore) would let another user in, for the socket checks no peer itself.
            const opened = keepPrivate([[paths.dir, 0o700], [paths.socket, 0o600]])
            if (opened.length > 0) {
              yield* sayOnce(`${opened.join(" and ")} let other users in: made private again`)
            }
            return
          }
          ensurePrivateDir(paths.dir)
          if (!sameFile(identityOf(paths.lock), lock.file)) {
            // Its lock is on a file that went: it holds nothing now. Let go of it before taking it anew.
            yield* Scope.close(lock.scope, Exit.void)
            const taken = yield* Effect.exit(acquireLock)
            if (Exit.isFailure(taken)) {
              return yield* sayOnce(
                `${paths.lock} went, and another supervisor took the project: this one's sessions go on, ` +
                  "and it listens again once that one has ended"
              )
            }
            lock = taken.value
          }
          yield* Scope.close(listening.scope, Exit.void)
          listening = yield* acquireListener
          lastProblem = undefined
          yield* Effect.logWarning(`${paths.socket} went: listening there again`)
        }).pipe(Effect.catchCause((cause) => sayOnce(`cannot listen again at ${paths.socket}: ${Cause.squash(cause)}`)))
        yield* stayReachable.pipe(Effect.repeat(Schedule.spaced(REACHABLE_EVERY_MS)), Effect.forkScoped)
        return Daemon.of({ done: Deferred.await(done) })
      })
    )
}

/** Tells the front that started it (if one did) that it listens: one line on READY_FD, then closed. */
const sayReady = () => {
  if (readyFd !== String(READY_FD)) return
  try {
    fs.writeSync(READY_FD, "ready\n")
    fs.closeSync(READY_FD)
  } catch {
    // The front is gone: nobody is waiting.
  }
}

/** How long a caller has to greet once connected (a front greets at once). */
const GREETING_MS = 10_000

/** How often the supervisor looks that its socket is still where fronts look for it. */
const REACHABLE_EVERY_MS = 2_000

/** A listen that failed for its address: a name nobody resolves, or an address this machine does not have. */
const notHere = (error: Error) =>
  ["ENOTFOUND", "EADDRNOTAVAIL", "EAI_AGAIN"].includes((error as NodeJS.ErrnoException).code ?? "")
