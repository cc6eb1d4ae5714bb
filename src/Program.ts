/**
 * What `taskmux [options]` runs when it is not a front (see daemon/front.ts): `--help` or `--version`;
 * the server alone in this process (`--isolated`, or when the running supervisor speaks another
 * protocol); or the supervisor itself (`taskmux supervise`, which a front starts). Every failure is
 * one plain line on stderr, never anything on stdout.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit, Layer, Logger } from "effect"
import { access } from "node:fs"
import { parseCommandLine, TaskmuxConfig } from "./Config.ts"
import { isSupportedNode, LOST_RACE, supervisorNode } from "./daemon/connect.ts"
import { runtimePaths } from "./daemon/runtimePaths.ts"
import { takeReadyFd } from "./daemon/sayReady.ts"
import { firstLineOf } from "./domain/clipText.ts"
import { InvalidConfig, LostRace } from "./domain/errors.ts"
import { pidOneNote } from "./pidOne.ts"
import { keepYoungGenerationSmall } from "./youngGeneration.ts"

/**
 * `--help`, `--version`, the server alone (`--isolated`, or `note` says why: a supervisor that speaks
 * another protocol), or the supervisor itself (`supervise`).
 */
export const runProgram = (argv: ReadonlyArray<string>, note?: string): void => {
  // Out of the environment first: no task may inherit the fd of the front that started this supervisor.
  const readyFd = takeReadyFd()
  const supervise = argv[0] === "supervise"
  const command = parseCommandLine(supervise ? argv.slice(1) : argv.filter((arg) => arg !== "--isolated"))
  const main = command._tag === "Print"
    // --help and --version: no protocol session, so the text goes to stdout like any CLI's.
    ? Effect.sync(() => process.stdout.write(command.text))
    : command._tag === "Invalid"
    ? Effect.fail(command.error)
    : supervise
    ? Effect.flatMap(Effect.service(TaskmuxConfig), (config) => superviseProject(config, argv.slice(1), readyFd)).pipe(
      Effect.provide(TaskmuxConfig.layerFrom(command.env))
    )
    : serveAlone(command.env, note)

  if (command._tag !== "Print") {
    // libuv makes its worker threads at the first work queued to them (the first task's cwd check) and
    // aborts the process when no thread can be made then: a user's process limit (RLIMIT_NPROC, a
    // container's pids.max) reached by a `make -j` would end the server, and every task with it. Made
    // now, a limit reached later fails only a spawn, with EAGAIN, which the start's answer says.
    access("/", () => {})
    // stdout is the protocol's (a session alone) or nobody's (a supervisor's is /dev/null, its stderr its
    // log): whatever logs with console.log, a fiber run without the reference below or a dependency, says
    // it on stderr instead.
    // eslint-disable-next-line no-console -- the one place that names console: to take stdout from it
    console.log = console.info = console.debug = console.error
  }
  // The supervisor's stderr is its log, appended to by every supervisor of the project: each line says when, and whose.
  if (supervise) {
    stampLines(process.stderr)
    // Its other end (idle, or making way) is said where it is decided (Daemon.ts); this one comes from outside.
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      process.once(signal, () => process.stderr.write(`taskmux: supervisor ending: ${signal} (pid ${process.pid})\n`))
    }
  }
  NodeRuntime.runMain(main.pipe(Effect.provide(Logger.layer([lineLogger]))), {
    disableErrorReporting: true,
    // One plain line on stderr: never a stack trace, never anything on stdout. Said here, from the exit,
    // so that a failure no handler inside saw (a defect that ended the fiber's loop) is said too.
    teardown: (exit, onExit) => {
      if (Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause)) return onExit(0)
      const error = Cause.squash(exit.cause)
      // A supervisor that lost the project to another says so in its log (its stderr), in case that is no supervisor.
      process.stderr.write(
        error instanceof LostRace
          ? `taskmux: ${messageOf(error)}: this one leaves it the project\n`
          : `taskmux: ${messageOf(error)}\n`
      )
      // A bad option, setting or word is a usage error, as the CLI's are.
      onExit(error instanceof LostRace ? LOST_RACE : error instanceof InvalidConfig ? 2 : 1)
    }
  })
}

/**
 * The server's code, loaded. Then the young generation stops growing: not sooner, or loading that code
 * would take more collections (about 6 ms more of a cold start).
 */
const loadServer = Effect.promise(() => import("./Server.ts")).pipe(Effect.tap(Effect.sync(keepYoungGenerationSmall)))

/** Today's server: this connection alone, over stdio; its tasks end with it. */
const serveAlone = (settings: Record<string, string>, note?: string) =>
  Effect.flatMap(loadServer, ({ McpServerClosed, ServerLayer }) => {
    // As PID 1, what that costs is said first, on stderr too (a front's note was said there already).
    const pidOne = pidOneNote()
    if (pidOne !== undefined) process.stderr.write(`taskmux: ${pidOne}\n`)
    // A front on such a Node hands its sessions to a supervisor on the checkout's Node 24; alone, it runs here.
    if (!isSupportedNode()) {
      const own = supervisorNode()
      process.stderr.write(
        `taskmux: serving alone on Node ${process.versions.node}, older than the 22.19 taskmux supports: ` +
          (own === process.execPath ? "install a newer Node\n" : `give your client ${own} as its command\n`)
      )
    }
    const notes = [pidOne, note].filter((n) => n !== undefined).join("\n\n")
    return McpServerClosed.pipe(Effect.provide(ServerLayer(settings, notes === "" ? undefined : notes)))
  })

/**
 * The project's supervisor (started with these options), until no session and no task needs it;
 * `readyFd`: where the front that started it waits to hear that it listens.
 */
const superviseProject = (config: TaskmuxConfig["Service"], args: ReadonlyArray<string>, readyFd: number | undefined) =>
  Effect.flatMap(
    loadServer,
    ({ DaemonDone, SupervisorLayer }) =>
      DaemonDone.pipe(
        Effect.provide(Layer.suspend(() => SupervisorLayer(config, runtimePaths(config.project), args, readyFd)))
      )
  )

/** One line a message: `WARN the watchdog ended; starting another`, and its cause's first line; no fiber id, no stack. */
const lineLogger = Logger.make(({ cause, logLevel, message }) => {
  const parts = (Array.isArray(message) ? message : [message]).map((part) =>
    typeof part === "string" ? part : JSON.stringify(part)
  )
  if (cause.reasons.length > 0) parts.push(firstLineOf(Cause.squash(cause)))
  process.stderr.write(`taskmux: ${logLevel.toUpperCase()} ${parts.join(" ")}\n`)
})

/** Each line written to `stream` begins with the time (ISO, UTC) and this process's pid. */
const stampLines = (stream: NodeJS.WriteStream) => {
  const write = stream.write.bind(stream) as (chunk: string, ...rest: Array<unknown>) => boolean
  let lineStart = true
  stream.write = ((chunk: string | Uint8Array, ...rest: Array<unknown>) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8")
    const stamp = `${new Date().toISOString()} [${process.pid}] `
    let out = ""
    for (const piece of text.split(/(?<=\n)/)) {
      out += (lineStart ? stamp : "") + piece
      lineStart = piece.endsWith("\n")
    }
    return write(out, ...rest)
  }) as typeof stream.write
}

function messageOf(error: unknown) {
  return error instanceof Error ? error.message : String(error)
}
