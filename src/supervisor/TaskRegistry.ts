/**
 * The supervisor: task names to task actors. Each run of a task is a fiber in a
 * `FiberMap` that owns its process tree and its log file (scoped resources) and feeds
 * its output buffer (see TaskActor); closing the registry's scope interrupts every actor,
 * and each actor's scope ends its whole process tree.
 */
import { Context, Deferred, Effect, FiberMap, Layer, type Scope } from "effect"
import { unlink } from "node:fs/promises"
import { TaskmuxConfig } from "../Config.ts"
import {
  type CommandRefused,
  type CwdOutsideRoot,
  InputTooLarge,
  type InvalidCwd,
  NotATerminal,
  type SpawnFailed,
  type StdinClosed,
  TaskAlreadyRunning,
  TaskNotFound,
  TaskNotRunning,
  type TerminalUnavailable,
  TooManyTasks
} from "../domain/errors.ts"
import type { SignalName } from "../domain/Signals.ts"
import {
  describeEnd,
  isFinished,
  type LineRecord,
  type TaskInfo,
  type TaskStatus,
  type TaskSummary
} from "../domain/Task.ts"
import type { TerminalSize } from "../domain/TerminalSize.ts"
import { cleanText } from "../output/cleanText.ts"
import { lastLinesOf, type SummaryLine } from "../output/explain.ts"
import { type BufferedLine, OutputBuffer, type ReadOptions } from "../output/OutputBuffer.ts"
import type { Screen } from "../output/TerminalScreen.ts"
import * as PortProbe from "../process/PortProbe.ts"
import type { PortWanted } from "../process/PortProbe.ts"
import * as ProcessTree from "../process/ProcessTree.ts"
import { Watchdog } from "../process/Watchdog.ts"
import { Notifier } from "./Notifier.ts"
import { baseEnv, checkPolicy, uniqueName } from "./startPolicy.ts"
import { ended, explainRun, info, lastLines, makeActors, newTask, runEnv, summary, toLineRecord } from "./TaskActor.ts"
import type { Ended, Started, StartRequest, StopRequest, Task } from "./TaskActor.ts"

export type { Ended, Started, StartRequest, StopRequest } from "./TaskActor.ts"

/** Why a start is refused before anything runs. */
export type StartError =
  | TaskAlreadyRunning
  | TooManyTasks
  | CommandRefused
  | CwdOutsideRoot
  | InvalidCwd
  | SpawnFailed
  | TerminalUnavailable

export interface ReadRequest {
  readonly stream?: "stdout" | "stderr" | "all" | undefined
  readonly tail?: number | undefined
  readonly since?: number | undefined
  /** Keep ANSI escapes and carriage returns as the task wrote them. */
  readonly raw?: boolean | undefined
  /** Only lines that match. */
  readonly grep?: RegExp | undefined
  readonly maxBytes?: number | undefined
}

export interface OutputPage {
  readonly lines: ReadonlyArray<LineRecord>
  readonly nextCursor: number
  readonly dropped: number
  readonly truncated: boolean
}

export interface WaitRequest {
  /** Matched against each line (cleaned), both streams; with neither this nor `port`: wait for the end. */
  readonly pattern?: RegExp | undefined
  /** Ready when the task listens on this TCP port (with `pattern`: once both hold). */
  readonly port?: PortWanted | undefined
  /** Only lines after this cursor count; default: after the last line an answer about the task showed. */
  readonly since?: number | undefined
  /** Answer when the task ends (a pattern then only says whether a line matched on the way). */
  readonly exit?: boolean | undefined
  readonly timeoutMs: number
  /** Called every few seconds while waiting (with the last line), and at each run's end that a restart follows. */
  readonly onProgress?: ((elapsedMs: number, note: string | undefined) => Effect.Effect<void>) | undefined
}

export interface WaitResult {
  readonly name: string
  /** The line matched, the port listens, or (an exit wait) the task ended, as asked. */
  readonly matched: boolean
  readonly line?: LineRecord
  readonly status: TaskStatus
  readonly exitCode: number | null
  readonly signal: string | null
  readonly timedOut: boolean
  readonly nextCursor: number
  readonly elapsedMs: number
  /** The last lines: what the task printed up to its readiness, its end or the timeout. */
  readonly lastLines: ReadonlyArray<string>
  /** Lines before those that look like the cause (an error, a traceback), with their positions. */
  readonly errorLines?: ReadonlyArray<SummaryLine>
  /** How long the run lasted, once it has ended. */
  readonly durationMs?: number
  /** Why nothing was seen, when the task printed nothing at all while the wait lasted. */
  readonly hint?: string
  /** The port it was found listening on, for a wait on a port. */
  readonly port?: number
  /** Why it ended for good: its restart policy gave up, or a run failed to start. */
  readonly reason?: string
}

/** How often a waiter rescans at most, so a flood does not turn waiting into busy work. */
const WAIT_SCAN_MS = 20
const PROGRESS_EVERY_MS = 2_000
const PORT_POLL_MS = 100
/** A port's ready answer waits until the output has been quiet this long, and no longer than the other. */
const READY_QUIET_MS = 50
const READY_SETTLE_MS = 300
/** Lines looked through for a ready answer's last lines (a summary shows fewer). */
const READY_LINES = 16

export class TaskRegistry extends Context.Service<TaskRegistry, {
  /** Starts a task; fails (and records it as `failed`) when it cannot be spawned. */
  readonly start: (request: StartRequest) => Effect.Effect<Started, StartError>
  /** Ends a task's whole process tree; answers once it is gone. */
  readonly stop: (name: string, request?: StopRequest) => Effect.Effect<Ended, TaskNotFound>
  /** Stops a task if it runs, then starts it again with the same command, keeping its output. */
  readonly restart: (
    name: string
  ) => Effect.Effect<Started, TaskNotFound | TooManyTasks | InvalidCwd | SpawnFailed | TerminalUnavailable>
  readonly list: Effect.Effect<ReadonlyArray<TaskSummary>>
  readonly get: (name: string, options?: { readonly envValues?: boolean }) => Effect.Effect<TaskInfo, TaskNotFound>
  readonly read: (name: string, request: ReadRequest) => Effect.Effect<OutputPage, TaskNotFound>
  /** What a terminal task's screen shows now. */
  readonly screen: (name: string) => Effect.Effect<Screen, TaskNotFound | NotATerminal>
  /** Waits for a line matching a pattern, the end of the task, or the timeout, whichever is first. */
  readonly wait: (name: string, request: WaitRequest) => Effect.Effect<WaitResult, TaskNotFound>
  /** Its end, answered as a wait for the end would, if it ends within `ms`; else nothing (no cursor moves). */
  readonly endedWithin: (name: string, ms: number) => Effect.Effect<WaitResult | undefined, TaskNotFound>
  /** Calls `onChange` (synchronously, often) on new output or a status change, for the life of the scope. */
  readonly watch: (name: string, onChange: () => void) => Effect.Effect<void, TaskNotFound, Scope.Scope>
  /** Writes to a task's stdin; `eof` closes it afterwards. */
  readonly send: (
    name: string,
    data: string,
    eof: boolean
  ) => Effect.Effect<number, TaskNotFound | StdinClosed | InputTooLarge>
  /** Changes a terminal task's size. */
  readonly resize: (name: string, size: TerminalSize) => Effect.Effect<void, TaskNotFound | NotATerminal>
  /** Sends a signal to every process of the task. */
  readonly signal: (name: string, signal: SignalName) => Effect.Effect<Ended, TaskNotFound | TaskNotRunning>
  /** Stops a task if it runs and forgets it; its log files stay unless `deleteLog`. */
  readonly remove: (name: string, deleteLog?: boolean) => Effect.Effect<void, TaskNotFound>
}>()("taskmux/TaskRegistry") {
  static readonly layer: Layer.Layer<TaskRegistry, never, TaskmuxConfig | Notifier | Watchdog> = Layer.effect(
    TaskRegistry,
    Effect.gen(function*() {
      const config = yield* TaskmuxConfig
      const notifier = yield* Notifier
      const watchdog = yield* Watchdog
      const actors = yield* FiberMap.make<string>()
      const actor = makeActors({ config, notifier, watchdog, actors, baseEnv: baseEnv(config) })
      const tasks = new Map<string, Task>()

      const lookup = (name: string) =>
        Effect.suspend(() => {
          const task = tasks.get(name)
          return task === undefined
            ? Effect.fail(new TaskNotFound({ name, known: [...tasks.keys()] }))
            : Effect.succeed(task)
        })

      const newBuffer = () =>
        new OutputBuffer({
          maxLines: config.bufferLines,
          maxBytes: config.bufferBytes,
          maxLineBytes: config.maxLineBytes
        })

      const runningCount = (except: Task | undefined) =>
        [...tasks.values()].filter((t) => t !== except && !isFinished(t.status)).length

      const start = Effect.fn("TaskRegistry.start")(function*(request: StartRequest) {
        const { cwd, line } = yield* checkPolicy(config, request)
        // Check and claim the name in one synchronous step, so two concurrent starts cannot both win.
        const task = yield* Effect.suspend((): Effect.Effect<Task, TaskAlreadyRunning | TooManyTasks> => {
          const existing = request.name === undefined ? undefined : tasks.get(request.name)
          if (existing !== undefined && !isFinished(existing.status)) {
            return Effect.fail(new TaskAlreadyRunning({ name: existing.name, pid: existing.pid }))
          }
          if (runningCount(existing) >= config.maxTasks) {
            return Effect.fail(new TooManyTasks({ limit: config.maxTasks }))
          }
          const name = request.name ?? uniqueName(request.command, tasks)
          // A task that replaces a finished one shares its listeners: subscriptions follow the name.
          const task = newTask(name, request, { cwd, line }, newBuffer(), existing?.listeners ?? new Set())
          tasks.set(name, task)
          if (existing === undefined) notifier.publish({ _tag: "TaskAdded", name })
          return Effect.succeed(task)
        })
        yield* Effect.annotateCurrentSpan({ name: task.name })
        return yield* actor.launch(task)
      })

      const stop = Effect.fn("TaskRegistry.stop")(function*(name: string, request: StopRequest = {}) {
        return yield* actor.stop(yield* lookup(name), request)
      })

      const restart = Effect.fn("TaskRegistry.restart")(function*(name: string) {
        const task = yield* lookup(name)
        yield* actor.stop(task, {})
        // Another restart may have won the race while we waited.
        if (!isFinished(task.status)) return { name, pid: task.pid, status: task.status } satisfies Started
        if (runningCount(task) >= config.maxTasks) return yield* new TooManyTasks({ limit: config.maxTasks })
        return yield* actor.relaunch(task)
      })

      const list = Effect.sync(() => ProcessTree.withOneLook(() => [...tasks.values()].map((task) => summary(task))))

      const base = baseEnv(config)
      const get = (name: string, options: { readonly envValues?: boolean } = {}) =>
        Effect.map(lookup(name), (task): TaskInfo => {
          // Made the same way again, not kept per task.
          const env = runEnv(base, task)
          return {
            ...info(task),
            env: Object.keys(env).sort(),
            ...(options.envValues === true && { envValues: env })
          }
        })

      const readLines = (task: Task, request: ReadRequest) => {
        const grep = request.grep
        const options: ReadOptions = {
          ...(request.stream !== undefined && { stream: request.stream }),
          ...(request.tail !== undefined && { tail: request.tail }),
          ...(request.since !== undefined && { since: request.since }),
          maxBytes: request.maxBytes ?? config.readMaxBytes,
          ...(request.raw !== true && { transform: cleanText }),
          ...(grep !== undefined && { filter: (text: string) => matchOnce(grep, text) })
        }
        return task.buffer.read(options)
      }

      const read = (name: string, request: ReadRequest) =>
        Effect.map(lookup(name), (task) => {
          const page = readLines(task, request)
          task.shownCursor = Math.max(task.shownCursor, page.nextCursor)
          return { ...page, lines: page.lines.map((line) => toLineRecord(task, line)) }
        })

      const screen = (name: string) =>
        Effect.flatMap(lookup(name), (task) => {
          const terminal = task.screen
          return terminal === null
            ? Effect.fail(new NotATerminal({ name, what: "screen" }))
            : Effect.promise(() => terminal.render())
        })

      const wait = Effect.fn("TaskRegistry.wait")(function*(name: string, request: WaitRequest) {
        const task = yield* lookup(name)
        // A run that its policy restarts is not the end: a wait goes on through restarts.
        let seenExit = task.lastExit
        const startedAt = Date.now()
        const deadline = startedAt + request.timeoutMs
        // Not after the call: a line that arrived between two calls is not missed.
        let cursor = request.since ?? task.shownCursor
        const exitWait = request.exit === true
        const bytesAtStart = task.buffer.receivedBytes
        let lastProgress = startedAt
        const probe = request.port === undefined
          ? undefined
          : PortProbe.make(request.port, () => task.process?.members() ?? [])
        let matchedLine: BufferedLine | undefined
        const result = (matched: boolean, timedOut: boolean, port?: number): WaitResult => {
          const over = isFinished(task.status) && task.endedAt !== null
          // An end, a timeout or a failed readiness comes with what explains it; readiness with what it printed.
          const { errorLines, lastLines } = matched && !exitWait
            ? { errorLines: [], lastLines: linesUpTo(task, matchedLine?.seq) }
            : explainRun(task)
          const nextCursor = exitWait
            ? task.buffer.cursor
            : matchedLine !== undefined && !matchedLine.partial
            ? matchedLine.seq
            : cursor
          task.shownCursor = Math.max(task.shownCursor, nextCursor)
          return {
            name,
            matched,
            ...(matchedLine !== undefined && { line: toLineRecord(task, matchedLine) }),
            ...(port !== undefined && { port }),
            status: task.status,
            exitCode: task.exitCode,
            signal: task.signal,
            timedOut,
            nextCursor,
            elapsedMs: Date.now() - startedAt,
            ...(over && { durationMs: Date.parse(task.endedAt!) - Date.parse(task.startedAt) }),
            ...(over && task.error !== null && { reason: task.error }),
            lastLines,
            ...(errorLines.length > 0 && { errorLines }),
            ...(timedOut && task.buffer.receivedBytes === bytesAtStart &&
              { hint: silentHint(task, request.pattern !== undefined, bytesAtStart === 0) })
          }
        }
        for (;;) {
          // Read the status first: once a run has ended, all its output is in the buffer.
          const over = isFinished(task.status)
          if (task.lastExit !== seenExit) {
            seenExit = task.lastExit
            if (!over && request.onProgress !== undefined) {
              yield* request.onProgress(Date.now() - startedAt, restartNote(task))
            }
          }
          if (request.pattern !== undefined && matchedLine === undefined) {
            const found = scan(task, cursor, request.pattern)
            matchedLine = found.line
            cursor = found.cursor
          } else if (request.pattern === undefined) {
            cursor = task.buffer.cursor
          }
          const lineReady = request.pattern === undefined || matchedLine !== undefined
          if (!exitWait && lineReady && probe === undefined && request.pattern !== undefined) return result(true, false)
          if (!exitWait && lineReady && probe !== undefined && !over) {
            const port = yield* Effect.promise(() => probe.check())
            if (port !== undefined) {
              // A server prints its URL as it starts listening, a moment after the port opens: let it.
              if (request.pattern === undefined) yield* awaitQuiet(task, READY_QUIET_MS, READY_SETTLE_MS)
              // A listing right after the answer shows the port too, not a sample taken before it opened.
              task.usage.outdate()
              return result(true, false, port)
            }
          }
          if (over) return result(exitWait && lineReady, false)
          const now = Date.now()
          if (now >= deadline) return result(false, true)
          if (request.onProgress !== undefined && now - lastProgress >= PROGRESS_EVERY_MS) {
            lastProgress = now
            const last = lastLines(task, 1)[0]
            yield* request.onProgress(
              now - startedAt,
              last === undefined ? undefined : `last line: ${last.slice(0, 200)}`
            )
          }
          const nextProgress = request.onProgress === undefined ? deadline : lastProgress + PROGRESS_EVERY_MS
          // A port is looked at every PORT_POLL_MS; output and status changes wake the wait at once.
          const nextPort = probe === undefined ? deadline : now + PORT_POLL_MS
          const ms = Math.max(0, Math.min(deadline, nextProgress, nextPort) - Date.now())
          if (request.pattern === undefined && probe === undefined) {
            // Only the end matters: woken by it, not by each line a chatty task prints.
            yield* awaitChange(task, ms, () => isFinished(task.status) || task.lastExit !== seenExit)
            continue
          }
          yield* awaitChange(task, ms)
          yield* Effect.sleep(Math.max(0, WAIT_SCAN_MS - (Date.now() - now)))
        }
      })

      const endedWithin = Effect.fnUntraced(function*(name: string, ms: number) {
        const task = yield* lookup(name)
        yield* awaitChange(task, ms, () => isFinished(task.status))
        if (!isFinished(task.status)) return undefined
        return yield* wait(name, { exit: true, since: 0, timeoutMs: 0 })
      })

      const watch = Effect.fnUntraced(function*(name: string, onChange: () => void) {
        const task = yield* lookup(name)
        yield* Effect.acquireRelease(
          Effect.sync(() => task.listeners.add(onChange)),
          () => Effect.sync(() => task.listeners.delete(onChange))
        )
      })

      const send = Effect.fn("TaskRegistry.send")(function*(name: string, data: string, eof: boolean) {
        const task = yield* lookup(name)
        const bytes = Buffer.from(data, "utf8")
        if (bytes.length > config.maxInputBytes) {
          return yield* new InputTooLarge({ bytes: bytes.length, limit: config.maxInputBytes })
        }
        return yield* actor.send(task, bytes, eof)
      })

      const resize = Effect.fn("TaskRegistry.resize")(function*(name: string, size: TerminalSize) {
        yield* actor.resize(yield* lookup(name), size)
      })

      const signal = Effect.fn("TaskRegistry.signal")(function*(name: string, sig: SignalName) {
        const task = yield* lookup(name)
        if (!actor.signal(task, sig)) {
          return yield* new TaskNotRunning({
            name,
            status: task.status,
            detail: describeEnd(task.status, task.exitCode, task.signal)
          })
        }
        // Give a terminating signal a moment to take effect, so the answer shows it.
        yield* Deferred.await(task.done).pipe(Effect.timeoutOption(250))
        return ended(task)
      })

      const remove = Effect.fn("TaskRegistry.remove")(function*(name: string, deleteLog = false) {
        const task = yield* lookup(name)
        yield* actor.stop(task, {})
        if (tasks.get(name) !== task) return
        tasks.delete(name)
        notifier.publish({ _tag: "TaskRemoved", name })
        if (deleteLog) yield* Effect.promise(() => Promise.allSettled([...task.logFiles].map((path) => unlink(path))))
      })

      return TaskRegistry.of({
        start,
        stop,
        restart,
        list,
        get,
        read,
        screen,
        wait,
        endedWithin,
        watch,
        send,
        resize,
        signal,
        remove
      })
    })
  )
}

/** Why a wait may have seen nothing: said when a task printed nothing while it waited. */
const silentHint = (task: Task, forALine: boolean, never: boolean) => {
  const silence = never ? "It has printed nothing at all." : "It printed nothing while this call waited."
  return task.terminal !== null || !forALine
    ? silence
    : `${silence} If it should have, it may be buffering its output, ` +
      "as many programs do when writing to a pipe: start it with terminal: true, or make it flush " +
      "(python3 -u, stdbuf -oL, grep --line-buffered)."
}

/** The last lines up to `seq` (all held, without it), cleaned, as few as a summary shows. */
const linesUpTo = (task: Task, seq: number | undefined) => {
  const window = { maxBytes: 64 * 1024, transform: cleanText }
  const { lines } = task.buffer.read(
    seq === undefined ? { ...window, tail: READY_LINES } : { ...window, since: Math.max(0, seq - READY_LINES) }
  )
  return lastLinesOf(seq === undefined ? lines : lines.filter((l) => l.seq <= seq)).lastLines
}

/** "run 2 crashed (exit code 3); restarting in 0.5 s": the end of a run that a restart follows. */
const restartNote = (task: Task) => {
  const end = task.lastExit!
  const ended = describeEnd(end.status, end.exitCode, end.signal)
  if (task.status !== "restarting") return `run ${task.restarts} ${ended}; restarted`
  const inMs = task.nextRestartAt === null ? 0 : Math.max(0, task.nextRestartAt.getTime() - Date.now())
  return `run ${task.restarts + 1} ${ended}; restarting in ${(inMs / 1000).toFixed(1)} s`
}

/** Returns once the task has printed nothing for `quietMs`, or after `maxMs`. */
const awaitQuiet = (task: Task, quietMs: number, maxMs: number) =>
  Effect.gen(function*() {
    const deadline = Date.now() + maxMs
    for (;;) {
      const before = task.buffer.receivedBytes
      yield* Effect.sleep(Math.max(0, Math.min(quietMs, deadline - Date.now())))
      if (task.buffer.receivedBytes === before || Date.now() >= deadline) return
    }
  })

/**
 * Resolves on the task's next change, or after `ms`; with `until`, once it holds (at once if it
 * does already), however many changes come first.
 */
const awaitChange = (task: Task, ms: number, until?: () => boolean) =>
  Effect.callback<void>((resume) => {
    if (until?.() === true) return resume(Effect.void)
    // Removed by itself when it fires (a canceller runs only on interruption).
    const listener = () => {
      if (until !== undefined && !until()) return
      task.listeners.delete(listener)
      resume(Effect.void)
    }
    task.listeners.add(listener)
    return Effect.sync(() => task.listeners.delete(listener))
  }).pipe(Effect.timeoutOption(ms), Effect.asVoid)

/** The first line after `cursor` (cleaned) that matches, or the cursor after everything scanned. */
const scan = (task: Task, cursor: number, pattern: RegExp): { line?: BufferedLine; cursor: number } => {
  for (;;) {
    const page = task.buffer.read({ since: cursor, maxBytes: 1 << 20, transform: cleanText })
    for (const line of page.lines) {
      if (matchOnce(pattern, line.text)) return { line, cursor }
    }
    if (!page.truncated) return { cursor: page.nextCursor }
    cursor = page.nextCursor
  }
}

/** `RegExp.test` without the `g`/`y` flags' memory of the last match. */
const matchOnce = (pattern: RegExp, text: string) => {
  pattern.lastIndex = 0
  return pattern.test(text)
}
