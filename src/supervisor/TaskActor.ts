/**
 * One task's runs: the actor spawns its process (on pipes or on a terminal, through
 * `TaskProcess`, which it does not need to tell apart), feeds its output to the ring, the
 * log file and the screen, supervises it (restarting as its policy says), and records how
 * each run ended. The state of a task is the `Task` record below; the registry holds
 * tasks by name and the actors' fibers in a `FiberMap`.
 */
import { Deferred, Duration, Effect, FiberMap, Schedule } from "effect"
import type { TaskmuxConfig } from "../Config.ts"
import { InvalidCwd, NotATerminal, type SpawnFailed, StdinClosed, type TerminalUnavailable } from "../domain/errors.ts"
import type { InputTooLarge, TaskNotRunning } from "../domain/errors.ts"
import { type SignalName, signalNumber } from "../domain/Signals.ts"
import {
  classifyExit,
  describeEnd,
  type LineRecord,
  type TaskInfo,
  type TaskStatus,
  type TaskSummary
} from "../domain/Task.ts"
import type { TerminalSize } from "../domain/TerminalSize.ts"
import { cleanText } from "../output/cleanText.ts"
import { explain, type Explained } from "../output/explain.ts"
import { LogFile } from "../output/LogFile.ts"
import type { BufferedLine, OutputBuffer } from "../output/OutputBuffer.ts"
import { TerminalScreen } from "../output/TerminalScreen.ts"
import * as ProcessTree from "../process/ProcessTree.ts"
import * as procfs from "../process/procfs.ts"
import { spawn } from "../process/spawn.ts"
import type * as TaskProcess from "../process/TaskProcess.ts"
import { noUsage, processesOf, type TaskUsage, unknownUsage, UsageSampler } from "../process/usage.ts"
import type { Watchdog } from "../process/Watchdog.ts"
import type { Notifier } from "./Notifier.ts"
import { backoff, decide, defaultPolicy, type RestartPolicy } from "./RestartPolicy.ts"
import { checkDirectory, taskEnv } from "./startPolicy.ts"

export interface StartRequest {
  readonly command: string
  readonly args?: ReadonlyArray<string> | undefined
  readonly name?: string | undefined
  readonly cwd?: string | undefined
  readonly env?: Readonly<Record<string, string>> | undefined
  /** Announce the end of each run (default true). */
  readonly notifyOnExit?: boolean | undefined
  /** Start it again when it ends by itself. */
  readonly restart?: Partial<RestartPolicy> | undefined
  /** Run it on a pseudo-terminal of this size. */
  readonly terminal?: TerminalSize | undefined
}

export interface StopRequest {
  readonly signal?: SignalName | undefined
  readonly graceMs?: number | undefined
  readonly force?: boolean | undefined
}

export interface Started {
  readonly name: string
  readonly pid: number | null
  readonly status: TaskStatus
}

/** How one run ended. */
export interface RunEnd {
  readonly status: TaskStatus
  readonly exitCode: number | null
  readonly signal: string | null
}

export interface Ended {
  readonly name: string
  readonly status: TaskStatus
  readonly exitCode: number | null
  readonly signal: string | null
}

/** The mutable state of one task, owned by its actor (and read by the registry). */
export interface Task {
  readonly name: string
  readonly command: string
  readonly args: ReadonlyArray<string> | null
  /** `command` and `args` as one shell-quoted line, as list_tasks shows it. */
  readonly commandLine: string
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  readonly notifyOnExit: boolean
  readonly policy: RestartPolicy
  readonly buffer: OutputBuffer
  /** Its terminal's size, or null for a task on pipes. */
  terminal: TerminalSize | null
  readonly screen: TerminalScreen | null
  readonly usage: UsageSampler
  /** Called on new output and on status changes: waiters and resource subscriptions. */
  readonly listeners: Set<() => void>
  /** Log files of every run, for `remove_task { deleteLog }`. */
  readonly logFiles: Set<string>
  status: TaskStatus
  pid: number | null
  exitCode: number | null
  signal: string | null
  error: string | null
  restarts: number
  /** ISO times, kept as the text every answer shows. */
  startedAt: string
  endedAt: string | null
  process: TaskProcess.TaskProcess | undefined
  log: LogFile | undefined
  lastExit: { status: TaskStatus; exitCode: number | null; signal: string | null; at: string } | null
  nextRestartAt: Date | null
  stopRequested: boolean
  signalsSent: Set<string>
  done: Deferred.Deferred<void>
  /** The latest run's marker (see ProcessTree), in its environment. */
  marker: string | null
  /** The cursor after the last line an answer about this task showed: a wait starts there. */
  shownCursor: number
}

export const newTask = (
  name: string,
  request: StartRequest,
  checked: { readonly cwd: string; readonly line: string },
  buffer: OutputBuffer,
  listeners: Set<() => void>
): Task => ({
  name,
  command: request.command,
  args: request.args ?? null,
  commandLine: checked.line,
  cwd: checked.cwd,
  env: request.env ?? {},
  notifyOnExit: request.notifyOnExit ?? true,
  policy: { ...defaultPolicy, ...request.restart },
  buffer,
  terminal: request.terminal ?? null,
  screen: request.terminal === undefined ? null : new TerminalScreen(request.terminal),
  usage: new UsageSampler(),
  listeners,
  logFiles: new Set(),
  status: "running",
  pid: null,
  exitCode: null,
  signal: null,
  error: null,
  restarts: 0,
  startedAt: new Date().toISOString(),
  endedAt: null,
  process: undefined,
  log: undefined,
  lastExit: null,
  nextRestartAt: null,
  stopRequested: false,
  signalsSent: new Set(),
  done: Deferred.makeUnsafe(),
  marker: null,
  shownCursor: 0
})

/** What an actor needs from the server. */
export interface ActorContext {
  readonly config: TaskmuxConfig["Service"]
  readonly notifier: Notifier["Service"]
  readonly watchdog: Watchdog["Service"]
  readonly actors: FiberMap.FiberMap<string>
  readonly baseEnv: Readonly<Record<string, string>>
}

const backoffStep = (policy: RestartPolicy) => Schedule.toStep(backoff(policy))

/** The actor's operations on one task; the registry calls them, by name. */
export const makeActors = (context: ActorContext) => {
  const { actors, config, notifier, watchdog } = context

  /** Output goes to the ring (fast path), the log file (complete record) and the screen; watchers hear of it. */
  const sinkFor = (task: Task, log: LogFile): TaskProcess.OutputSink => {
    const screen = task.screen
    return {
      append: (stream, chunk, time) => {
        task.buffer.append(stream, chunk, time)
        screen?.write(chunk)
        const more = log.write(chunk)
        changed(task)
        return more
      },
      flush: (stream) => {
        task.buffer.flush(stream)
        changed(task)
      },
      onDrain: (resume) => log.onDrain(resume)
    }
  }

  type Spawned = Deferred.Deferred<void, SpawnFailed | TerminalUnavailable>

  /** One run of a task: spawn, report the pid, wait for the end; undefined when it could not start. */
  const runOnce = (task: Task, spawned: Spawned) =>
    Effect.gen(function*() {
      const log = yield* Effect.acquireRelease(
        Effect.sync(() => LogFile.open(config.logDir, task.name, config.logMaxBytes)),
        (log) => log.close
      )
      task.log = log
      task.logFiles.add(log.path)
      const marker = ProcessTree.newMarker()
      task.marker = marker
      const process = yield* spawn({
        command: task.command,
        args: task.args ?? undefined,
        cwd: task.cwd,
        env: runEnv(context.baseEnv, task),
        marker,
        releaseGraceMs: config.shutdownGraceMs,
        terminal: task.terminal ?? undefined
      }, sinkFor(task, log)).pipe(
        Effect.withSpan("task.spawn", { attributes: { task: task.name, command: task.command } })
      )
      yield* Effect.acquireRelease(watchdog.track(process.pid, process.outputs), () => watchdog.untrack(process.pid))
      task.process = process
      task.pid = process.pid
      yield* Deferred.succeed(spawned, undefined)
      const exit = yield* process.exited
      yield* log.close
      const status = classifyExit(
        { ...exit, stopRequested: task.stopRequested, signalsSent: task.signalsSent },
        signalNumber
      )
      yield* Effect.annotateCurrentSpan({ status, exitCode: exit.code, signal: exit.signal })
      return { status, exitCode: exit.code, signal: exit.signal } satisfies RunEnd
    }).pipe(
      Effect.scoped,
      Effect.catch((error) =>
        Effect.sync(() => {
          task.status = "failed"
          task.error = error.message
          task.endedAt = new Date().toISOString()
          changed(task)
          return undefined
        }).pipe(Effect.tap(() => Deferred.fail(spawned, error)))
      ),
      Effect.withSpan("task.run", { attributes: { task: task.name, run: task.restarts + 1 } })
    )

  /** The actor: runs the task, and runs it again while its restart policy says so. */
  const supervise = (task: Task, spawned: Spawned) =>
    Effect.gen(function*() {
      // Made at the first restart: most tasks never restart.
      let step: Effect.Success<ReturnType<typeof backoffStep>> | undefined
      let inARow = 0
      for (;;) {
        const runStartedAt = Date.now()
        const run = yield* runOnce(task, spawned)
        if (run === undefined) return
        const uptimeMs = Date.now() - runStartedAt
        const next = decide(task.policy, { status: run.status, stopRequested: task.stopRequested, uptimeMs }, inARow)
        if (next._tag !== "Restart") {
          // Decided before the end is shown: a wait for the end never sees a run that will restart as the end.
          finish(task, run, next._tag === "GiveUp" ? { gaveUp: next.reason } : {})
          if (next._tag === "GiveUp") {
            notifier.publish({ _tag: "TaskGaveUp", name: task.name, reason: next.reason, quiet: !task.notifyOnExit })
          }
          return
        }
        if (next.resetBackoff || step === undefined) step = yield* backoffStep(task.policy)
        inARow = next.inARow
        const [, delay] = yield* step(Date.now(), undefined).pipe(Effect.orDie)
        finish(task, run, { restartAt: new Date(Date.now() + Duration.toMillis(delay)) })
        yield* Effect.sleep(delay).pipe(Effect.withSpan("task.backoff", { attributes: { task: task.name } }))
        task.restarts += 1
        resetRun(task)
        yield* Effect.annotateCurrentSpan({ restart: task.restarts })
      }
    }).pipe(
      // Shutdown or a stop interrupts the actor; its scope has already ended the tree.
      Effect.onInterrupt(() =>
        Effect.sync(() => finish(task, { status: "stopped", exitCode: task.exitCode, signal: task.signal }, {}))
      ),
      Effect.ensuring(Deferred.succeed(task.done, undefined))
    )

  /**
   * Records how a run ended and announces it: the task is then `restarting` (until `restartAt`) or
   * ended with the run's status, and `gaveUp` says why its policy will not run it again.
   */
  const finish = (
    task: Task,
    run: RunEnd,
    after: { readonly restartAt?: Date; readonly gaveUp?: string }
  ) => {
    const wasRestarting = task.status === "restarting"
    if (task.status !== "running" && !wasRestarting) return
    task.status = after.restartAt === undefined ? run.status : "restarting"
    task.exitCode = run.exitCode
    task.signal = run.signal
    task.endedAt = new Date().toISOString()
    task.process = undefined
    task.nextRestartAt = after.restartAt ?? null
    if (after.gaveUp !== undefined) task.error = after.gaveUp
    if (wasRestarting) {
      // Stopped between runs: the last run's end was announced already.
      changed(task)
      return
    }
    task.lastExit = { status: run.status, exitCode: run.exitCode, signal: run.signal, at: task.endedAt }
    changed(task)
    notifier.publish({
      _tag: "TaskExit",
      name: task.name,
      status: run.status,
      exitCode: run.exitCode,
      signal: run.signal,
      ...explainRun(task),
      ...(after.restartAt !== undefined && { restartAt: after.restartAt.toISOString() }),
      quiet: !task.notifyOnExit
    })
  }

  /** Spawns a new run of `task` and waits until it runs or failed to. */
  const launch = Effect.fnUntraced(function*(task: Task) {
    const cwdProblem = yield* checkDirectory(task.cwd)
    if (cwdProblem !== undefined) {
      task.status = "failed"
      task.error = `working directory ${cwdProblem}`
      return yield* new InvalidCwd({ cwd: task.cwd, reason: cwdProblem })
    }
    const spawned = yield* Deferred.make<void, SpawnFailed | TerminalUnavailable>()
    task.done = Deferred.makeUnsafe()
    yield* FiberMap.run(actors, task.name, supervise(task, spawned))
    yield* Deferred.await(spawned)
    return { name: task.name, pid: task.pid, status: task.status } satisfies Started
  })

  /** Ends the task's run (every process it started) and waits for the actor to finish. */
  const stop = (task: Task, request: StopRequest) =>
    Effect.gen(function*() {
      const process = task.process
      if (task.status === "restarting") {
        // Between runs: no process to signal, just no further run.
        task.stopRequested = true
        yield* FiberMap.remove(actors, task.name)
        yield* Deferred.await(task.done)
      } else if (task.status === "running" && process !== undefined) {
        task.stopRequested = true
        yield* process.terminate({
          signal: request.force === true ? "SIGKILL" : request.signal ?? "SIGTERM",
          graceMs: request.graceMs ?? config.killGraceMs
        }).pipe(Effect.withSpan("task.kill", { attributes: { task: task.name } }))
        yield* Deferred.await(task.done)
      }
      return ended(task)
    })

  /** Prepares a finished task for another run, keeping its output, and launches it. */
  const relaunch = (task: Task) => {
    task.restarts += 1
    resetRun(task)
    return launch(task)
  }

  /** Writes to the task's input; `eof` closes it afterwards (on a terminal: Ctrl-D). */
  const send = Effect.fnUntraced(function*(task: Task, bytes: Buffer, eof: boolean) {
    const process = task.process
    if (task.status !== "running" || process === undefined) {
      return yield* new StdinClosed({
        name: task.name,
        reason: `it is not running (${describeEnd(task.status, task.exitCode, task.signal)})`
      })
    }
    if (bytes.length > 0 || !eof) {
      const result = yield* process.write(bytes, 1_000)
      if (result._tag === "Closed") return yield* new StdinClosed({ name: task.name, reason: result.reason })
      // On a terminal, Ctrl-C (and Ctrl-\, Ctrl-Z) typed by the caller is a signal the caller sent.
      if (task.terminal !== null) {
        for (const [byte, signal] of typedSignals) if (bytes.includes(byte)) task.signalsSent.add(signal)
      }
    }
    if (eof) process.endInput()
    return bytes.length
  })

  /** Sends a signal to every process of the task; false when it is not running. */
  const signal = (task: Task, sig: SignalName): boolean => {
    const process = task.process
    if (task.status !== "running" || process === undefined || !process.signal(sig)) return false
    task.signalsSent.add(sig)
    return true
  }

  /** Changes a terminal task's size, for this run and the next. */
  const resize = (task: Task, size: TerminalSize): Effect.Effect<void, NotATerminal> => {
    if (task.terminal === null) return Effect.fail(new NotATerminal({ name: task.name, what: "a terminal size" }))
    task.terminal = size
    task.screen?.resize(size)
    task.process?.resize(size)
    return Effect.void
  }

  return { launch, stop, relaunch, send, signal, resize }
}

export type Actors = ReturnType<typeof makeActors>
export type SendError = StdinClosed | InputTooLarge | TaskNotRunning

/** The control characters a terminal turns into signals for its foreground job. */
const typedSignals = [[0x03, "SIGINT"], [0x1c, "SIGQUIT"], [0x1a, "SIGTSTP"]] as const

const resetRun = (task: Task) => {
  task.status = "running"
  task.pid = null
  task.exitCode = null
  task.signal = null
  task.error = null
  task.startedAt = new Date().toISOString()
  task.endedAt = null
  task.stopRequested = false
  task.signalsSent = new Set()
  task.nextRestartAt = null
  task.buffer.markRun(task.restarts + 1)
  task.screen?.reset()
  task.usage.reset()
}

export const changed = (task: Task) => {
  if (task.listeners.size === 0) return
  for (const listener of [...task.listeners]) listener()
}

/** The last lines of output, cleaned: what a task was doing. */
export const lastLines = (task: Task, n = 5) =>
  task.buffer.read({ tail: n, transform: cleanText }).lines.map((l) => l.text)

/** The environment the task's latest run got: the policy's, the task's own, and the run's marker. */
export const runEnv = (base: Readonly<Record<string, string>>, task: Task): Record<string, string> => ({
  ...taskEnv(base, task.env),
  ...(task.marker !== null && { [ProcessTree.MARKER_VARIABLE]: task.marker })
})

/** How many of the newest lines a summary looks through for the cause. */
const EXPLAIN_LINES = 1_000

/** The last lines of the latest run and, before them, those that look like the cause of its end. */
export const explainRun = (task: Task): Explained => {
  const { lines } = task.buffer.read({ tail: EXPLAIN_LINES, maxBytes: 512 * 1024, transform: cleanText })
  let from = lines.length
  while (from > 0 && lines[from - 1]!.run === undefined) from--
  const run = from > 0 ? lines.slice(from - 1) : lines
  return explain(run.map((l) => toLineRecord(task, l)))
}

// ---------------------------------------------------------------------------------------
// Views of a task, as the tools answer them

/** What its processes use now (sampled at most once a second); nothing once it has ended. */
const usageOf = (task: Task): TaskUsage => {
  const process = task.process
  if (!procfs.available) return unknownUsage
  if (process === undefined) return noUsage
  return task.usage.sample(process.members, Date.parse(task.startedAt))
}

export const summary = (task: Task, usage = usageOf(task)): TaskSummary => ({
  name: task.name,
  pid: task.pid,
  status: task.status,
  exitCode: task.exitCode,
  signal: task.signal,
  command: task.commandLine,
  startedAt: task.startedAt,
  endedAt: task.endedAt,
  ports: usage.ports,
  memoryBytes: usage.memoryBytes
})

/** What get_task shows, but the environment (which the registry knows how it was made). */
export const info = (task: Task): Omit<TaskInfo, "env" | "envValues"> => {
  const stats = task.buffer.stats()
  const log = task.log?.stats()
  const usage = usageOf(task)
  return {
    ...summary(task, usage),
    processes: processesOf(usage),
    cpuPercent: usage.cpuPercent,
    args: task.args,
    cwd: task.cwd,
    terminal: task.terminal,
    restarts: task.restarts,
    error: task.error,
    stdinOpen: task.process?.isStdinOpen() ?? false,
    lines: stats.lines,
    droppedLines: stats.droppedLines,
    totalLines: stats.totalLines,
    nextCursor: task.buffer.cursor,
    logFile: log?.path ?? null,
    logBytes: log?.bytes ?? 0,
    logCapped: log?.capped ?? false,
    logError: log?.error ?? null,
    watchers: task.listeners.size,
    restartPolicy: task.policy.policy,
    lastExit: task.lastExit,
    nextRestartAt: task.nextRestartAt?.toISOString() ?? null
  }
}

export const ended = (task: Task): Ended => ({
  name: task.name,
  status: task.status,
  exitCode: task.exitCode,
  signal: task.signal
})

/** A line as answers know it; a terminal task's lines are of the one stream "terminal". */
export const toLineRecord = (task: Task, line: BufferedLine): LineRecord => {
  const out: LineRecord = {
    seq: line.seq,
    stream: task.terminal !== null ? "terminal" : line.stream,
    text: line.text,
    time: line.time
  }
  return line.partial ? { ...out, partial: true } : line.run !== undefined ? { ...out, run: line.run } : out
}
