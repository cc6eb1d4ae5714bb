/**
 * The project's supervisor, serving every session at once: it holds the project's lock (one supervisor
 * per user and project), listens on a socket in the user's private directory, and serves each
 * connection as an MCP session of its own over the shared tasks. A session's own tasks end with it;
 * kept ones go on. With no session left, no page open and no task running it lingers a moment (a
 * reconnect finds it) and ends. Its web listener (the page, MCP over HTTP: src/web/) starts the first
 * time a session asks for it (`taskmux/ui`, which `taskmux ui` sends), and is loaded only then.
 */
import { Cause, Context, Deferred, Effect, Exit, FiberSet, Layer, PubSub, Schedule, Scope } from "effect"
import * as fs from "node:fs"
import type * as net from "node:net"
import { fileURLToPath } from "node:url"
import packageJson from "../../package.json" with { type: "json" }
import { TaskmuxConfig } from "../Config.ts"
import { serveSession } from "../mcp/McpServer.ts"
import type { McpSession } from "../mcp/McpSession.ts"
import { DRAIN_MS, StdioTransport } from "../mcp/StdioTransport.ts"
import type { ToolEnv } from "../mcp/Tool.ts"
import { endSessionTasks } from "../project/endSessionTasks.ts"
import { Notifier } from "../supervisor/Notifier.ts"
import { TaskRegistry } from "../supervisor/TaskRegistry.ts"
import { collectSoon } from "./collectSoon.ts"
import { identityOf, sameFile } from "./fileIdentity.ts"
import { type FrontOptions, frontOptionsReader } from "./frontOptions.ts"
import { BUILD, type Hello, readGreeting, type Welcome, WIRE_PROTOCOL } from "./hello.ts"
import { holdLock } from "./holdLock.ts"
import { makeIdle } from "./Idle.ts"
import { isHello } from "./isHello.ts"
import { keepPrivate } from "./keepPrivate.ts"
import { listen } from "./listen.ts"
import { LostTasks } from "./LostTasks.ts"
import { ensurePrivateDir, type RuntimePaths } from "./runtimePaths.ts"
import { sayReady } from "./sayReady.ts"
import { makeWebUi } from "./WebUi.ts"

/** The file this code runs from: a rebuild or an upgrade replaces or removes it. */
const ownFile = fileURLToPath(import.meta.url)
/** Whether `file` was replaced or removed since this was called (at the supervisor's start). */
const changedSince = (file: string) => {
  const then = fs.statSync(file, { throwIfNoEntry: false })
  return () => {
    const now = fs.statSync(file, { throwIfNoEntry: false })
    return then !== undefined && (now === undefined || now.ino !== then.ino || now.mtimeMs !== then.mtimeMs)
  }
}

export class Daemon extends Context.Service<Daemon, {
  /** Completes when the supervisor should end. */
  readonly done: Effect.Effect<void>
}>()("taskmux/Daemon") {
  /**
   * `args`: the options it was started with (good, or it would not have started); `readyFd`: where the
   * front that started it waits to hear that it listens (sayReady.ts), if one did.
   */
  static readonly layer = (
    paths: RuntimePaths,
    args: ReadonlyArray<string> = [],
    readyFd?: number
  ): Layer.Layer<Daemon, Error, ToolEnv | Notifier> =>
    Layer.effect(
      Daemon,
      Effect.gen(function*() {
        const layerScope = yield* Effect.scope
        const replacedOnDisk = changedSince(ownFile)
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
        const idle = yield* makeIdle({
          running: registry.running,
          lingerSetting: process.env.TASKMUX_LINGER_MS,
          end: () => end("no session, page or running task")
        })
        // Fibers started from Node's callbacks (a session, a page's viewer) run with this layer's
        // services, and are interrupted when it closes: after the sessions' scopes and the page, before
        // the linger's timer is cleared (an interrupted session's end checks it) and the lock goes.
        const run = yield* FiberSet.makeRuntime<ToolEnv | Notifier>()
        const web = yield* makeWebUi({
          paths,
          context,
          viewers: (change) => {
            idle.viewersChanged(change)
            run(idle.check)
          },
          asked: idle.pageAsked
        })

        // A task's end may leave the supervisor with nothing to do.
        const events = yield* (yield* Notifier).subscribe
        yield* PubSub.take(events).pipe(Effect.flatMap(() => idle.check), Effect.forever, Effect.forkScoped)

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
                if (caller.role === "cli") session.handle("taskmux/ui", (params) => web.open(params))
              },
              { env: caller.env, cwd: caller.cwd, policy: options.policy }
            ).pipe(Scope.provide(scope))
            if (rest.length > 0) socket.unshift(rest)
            socket.resume()
            yield* Deferred.await(closed)
            // A finalizer of the session failing (a bug, said in the log) does not keep its tasks running.
            yield* Effect.ignoreCause(Scope.close(scope, Exit.void), { log: true })
            // Its own tasks end with it (whole trees), and are forgotten; their logs stay. Interrupted here
            // or before (the supervisor ending), what still runs is left to the supervisor's own end, which
            // ends every tree at once and records it as lost: a session's stop (its grace, up to a hand-over's
            // 10 s) must not hold the lock, and the next supervisor, that long.
            yield* endSessionTasks(viewer.id)
            collectSoon()
          }).pipe(
            Effect.ensuring(Effect.suspend(() => {
              idle.sessionEnded()
              return idle.check
            }))
          )

        /** What a caller is told first; `extra` says what else it needs to know. */
        const welcome = (extra: Partial<Welcome>): Welcome => ({
          taskmux: packageJson.version,
          protocol: WIRE_PROTOCOL,
          pid: process.pid,
          project: paths.project,
          sessions: idle.sessions(),
          // Synchronous (it counts the actors' states): called from Node's callbacks.
          running: Effect.runSync(registry.running).all,
          build: BUILD,
          answersCursor: true,
          answersQueries: true,
          ...(idle.viewers() > 0 && { viewers: idle.viewers() }),
          ...extra
        })

        /** A caller of this protocol: its options checked, then its session served. */
        const take = (socket: net.Socket, hello: Hello, rest: Buffer, note?: string) => {
          // Of this protocol, but not a Hello's shape (a stray script, a prober): its connection goes.
          if (!isHello(hello)) return socket.destroy()
          // A front's options: refused, or its session's fence and what it does not get of its own.
          // The CLI brings no flags: its fence is the person's own variables (none: no fence).
          const options = frontOptions(hello.args ?? [], hello.env, hello.cwd)
          const { refused } = options
          if (refused !== undefined) return socket.end(`${JSON.stringify(welcome({ refused }))}\n`)
          const notice = [note, options.notice].filter((n) => n !== undefined).join(" ") || undefined
          // The sessions besides this one: counted before it.
          const w = welcome({ ...(notice !== undefined && { notice }), ...(note !== undefined && { stale: note }) })
          idle.sessionStarted()
          socket.write(`${JSON.stringify(w)}\n`)
          run(serve(socket, rest, hello, { ...options, ...(notice !== undefined && { notice }) }))
        }
        /** Said to a caller of a newer build this one serves, busy: what may fail, and how to end it. */
        const staleBuild = `This supervisor (pid ${process.pid}) runs a build of taskmux that has since been ` +
          "replaced on disk (rebuilt or upgraded), and has tasks running: it serves this session, but what it " +
          `loads when first needed may fail. End it when its tasks may stop (kill ${process.pid}): the next ` +
          "client starts a current one."

        /** A caller whose greeting is in: welcomed and served, or told why not. */
        const greeted = (socket: net.Socket, hello: Hello, rest: Buffer) => {
          // A caller of another build, where this one's own files were replaced since it started (a rebuild,
          // an upgrade): the files it loads when first needed have new names. Another install beside this
          // one (npx and a checkout) leaves them as they were, and shares it.
          const otherBuild = hello.build !== undefined && hello.build !== BUILD && replacedOnDisk()
          if (hello.protocol === WIRE_PROTOCOL && !otherBuild) return take(socket, hello, rest)
          const w = welcome({})
          // An open page or MCP-over-HTTP session is a session too: it would lose its supervisor.
          const nothingLost = w.sessions === 0 && w.running === 0 && (w.viewers ?? 0) === 0
          // Another protocol: never mis-speak. Make way for the caller's build when nothing would be lost.
          if (!nothingLost && hello.protocol === WIRE_PROTOCOL) return take(socket, hello, rest, staleBuild)
          socket.end(`${JSON.stringify({ ...w, replacing: nothingLost })}\n`)
          if (nothingLost) {
            end(
              `making way for a taskmux of ${
                hello.protocol !== WIRE_PROTOCOL ? `wire protocol ${hello.protocol}` : "another build"
              }`
            )
          }
        }

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
            // In a Node callback: a throw here (a bug) would end the supervisor and every task with it.
            try {
              greeted(socket, hello, rest)
            } catch (error) {
              process.stderr.write(`taskmux: a caller's greeting could not be answered: ${String(error)}\n`)
              socket.destroy()
            }
          })
          // Accepted paused (pauseOnConnect): nothing is read before the greeting's reader is there.
          socket.resume()
        }

        const listenerHome = yield* Scope.fork(layerScope, "sequential")
        const acquireListener = acquireIn(listenerHome, listen(paths.socket, accept), paths.socket)
        let listening = yield* acquireListener
        sayReady(readyFd)
        process.stderr.write(
          `taskmux: supervisor ${packageJson.version} (build ${BUILD}, Node ${process.versions.node}) listening at ` +
            `${paths.socket}${args.length > 0 ? `; options: ${args.join(" ")}` : ""}\n`
        )
        yield* idle.check

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
        // Ended from outside (SIGTERM), the first thing it does: a caller greeting meanwhile is refused, and
        // starts the next supervisor, rather than being welcomed to a session nobody will serve.
        yield* Effect.addFinalizer(() => Effect.sync(() => void (ending = true)))
        return Daemon.of({ done: Deferred.await(done) })
      })
    )
}

/** How long a caller has to greet once connected (a front greets at once). */
const GREETING_MS = 10_000

/** How often the supervisor looks that its socket is still where fronts look for it. */
const REACHABLE_EVERY_MS = 2_000
