/**
 * The supervisor: task names to task actors. Each run of a task is a fiber in a
 * `FiberMap` that owns its process group and its log file (scoped resources) and feeds
 * its output buffer; closing the registry's scope interrupts every actor, and each
 * actor's scope ends its whole process tree.
 */
import { Context, Deferred, Duration, Effect, FiberMap, Layer, Schedule, type Scope } from "effect"
import { realpath, stat, unlink } from "node:fs/promises"
import { constants as osConstants } from "node:os"
import * as NodePath from "node:path"
import { TaskmuxConfig } from "../Config.ts"
import {
  CommandRefused,
  CwdOutsideRoot,
  InputTooLarge,
  InvalidCwd,
  SpawnFailed,
  StdinClosed,
  TaskAlreadyRunning,
  TaskNotFound,
  TaskNotRunning,
  TooManyTasks
} from "../domain/errors.ts"
import type { SignalName } from "../domain/Signals.ts"
import {
  classifyExit,
  describeEnd,
  isFinished,
  type OutputLine,
  type TaskInfo,
  type TaskStatus,
  type TaskSummary
} from "../domain/Task.ts"
import { cleanText } from "./cleanText.ts"
import { LogFile } from "./LogFile.ts"
import { Notifier } from "./Notifier.ts"
import { type BufferedLine, OutputBuffer, type ReadOptions } from "./OutputBuffer.ts"
import * as ProcessGroup from "./ProcessGroup.ts"
import { beforeCollection } from "./ReadBufferReclaimer.ts"
import { backoff, decide, defaultPolicy, type RestartPolicy } from "./RestartPolicy.ts"
import { Watchdog } from "./Watchdog.ts"

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
}

/** Why a start is refused before anything runs. */
export type StartError = TaskAlreadyRunning | TooManyTasks | CommandRefused | CwdOutsideRoot | InvalidCwd | SpawnFailed

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

export interface Ended {
  readonly name: string
  readonly status: TaskStatus
  readonly exitCode: number | null
  readonly signal: string | null
}

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
  readonly lines: ReadonlyArray<OutputLine>
  readonly nextCursor: number
  readonly dropped: number
  readonly truncated: boolean
}

export interface WaitRequest {
  /** Matched against each line (cleaned), both streams; none: wait for the task to end. */
  readonly pattern?: RegExp | undefined
  /** Only lines after this cursor count; default: lines that arrive after the call. */
  readonly since?: number | undefined
  readonly timeoutMs: number
  /** Called every few seconds while waiting. */
  readonly onProgress?: ((elapsedMs: number, lastLine: string | undefined) => Effect.Effect<void>) | undefined
}

export interface WaitResult {
  readonly name: string
  readonly matched: boolean
  readonly line?: OutputLine
  readonly status: TaskStatus
  readonly exitCode: number | null
  readonly signal: string | null
  readonly timedOut: boolean
  readonly nextCursor: number
  readonly elapsedMs: number
  /** The last lines, when it did not match: what the task was doing instead. */
  readonly lastLines: ReadonlyArray<string>
}

const backoffStep = (policy: RestartPolicy) => Schedule.toStep(backoff(policy))

/** How often a waiter rescans at most, so a flood does not turn waiting into busy work. */
const WAIT_SCAN_MS = 20
const PROGRESS_EVERY_MS = 2_000

export class TaskRegistry extends Context.Service<TaskRegistry, {
  /** Starts a task; fails (and records it as `failed`) when it cannot be spawned. */
  readonly start: (request: StartRequest) => Effect.Effect<Started, StartError>
  /** Ends a task's whole process tree; answers once it is gone. */
  readonly stop: (name: string, request?: StopRequest) => Effect.Effect<Ended, TaskNotFound>
  /** Stops a task if it runs, then starts it again with the same command, keeping its output. */
  readonly restart: (name: string) => Effect.Effect<Started, TaskNotFound | TooManyTasks | InvalidCwd | SpawnFailed>
  readonly list: Effect.Effect<ReadonlyArray<TaskSummary>>
  readonly get: (name: string) => Effect.Effect<TaskInfo, TaskNotFound>
  readonly read: (name: string, request: ReadRequest) => Effect.Effect<OutputPage, TaskNotFound>
  /** Waits for a line matching a pattern, the end of the task, or the timeout, whichever is first. */
  readonly wait: (name: string, request: WaitRequest) => Effect.Effect<WaitResult, TaskNotFound>
  /** Calls `onChange` (synchronously, often) on new output or a status change, for the life of the scope. */
  readonly watch: (name: string, onChange: () => void) => Effect.Effect<void, TaskNotFound, Scope.Scope>
  /** Writes to a task's stdin; `eof` closes it afterwards. */
  readonly send: (
    name: string,
    data: string,
    eof: boolean
  ) => Effect.Effect<number, TaskNotFound | StdinClosed | InputTooLarge>
  /** Sends a signal to the task's process group. */
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
      const tasks = new Map<string, Task>()
      const baseEnv = config.inheritEnv ? inheritedEnv() : minimalEnv(config.envAllow)

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

      /** Output goes to the ring (fast path) and the log file (complete record); watchers hear of it. */
      const sinkFor = (task: Task, log: LogFile): ProcessGroup.OutputSink => ({
        append: (stream, chunk, time) => {
          task.buffer.append(stream, chunk, time)
          const more = log.write(chunk)
          changed(task)
          return more
        },
        flush: (stream) => {
          task.buffer.flush(stream)
          changed(task)
        },
        onDrain: (resume) => log.onDrain(resume)
      })

      /** One run of a task: spawn, report the pid, wait for the end, record how it ended. */
      const runOnce = (task: Task, spawned: Deferred.Deferred<void, SpawnFailed>) =>
        Effect.gen(function*() {
          const log = yield* Effect.acquireRelease(
            Effect.sync(() => LogFile.open(config.logDir, task.name, config.logMaxBytes)),
            (log) => log.close
          )
          task.log = log
          task.logFiles.add(log.path)
          const group = yield* ProcessGroup.spawn({
            command: task.command,
            args: task.args ?? undefined,
            cwd: task.cwd,
            env: taskEnv(baseEnv, task.env),
            releaseGraceMs: config.shutdownGraceMs
          }, sinkFor(task, log)).pipe(
            Effect.withSpan("task.spawn", { attributes: { task: task.name, command: task.command } })
          )
          yield* Effect.acquireRelease(watchdog.track(group.pid), () => watchdog.untrack(group.pid))
          // While it runs, a flood's held output moves out of the read buffers before each collection.
          yield* Effect.acquireRelease(
            Effect.sync(() => beforeCollection(() => task.buffer.compactIfChurning())),
            (remove) => Effect.sync(remove)
          )
          task.group = group
          task.pid = group.pid
          yield* Deferred.succeed(spawned, undefined)
          const exit = yield* group.exited
          yield* log.close
          const status = classifyExit(
            { ...exit, stopRequested: task.stopRequested, signalsSent: task.signalsSent },
            signalNumber
          )
          yield* Effect.annotateCurrentSpan({ status, exitCode: exit.code, signal: exit.signal })
          finish(task, status, exit.code, exit.signal)
          return status
        }).pipe(
          Effect.scoped,
          Effect.catch((error) =>
            Effect.sync(() => {
              task.status = "failed"
              task.error = error.message
              task.endedAt = new Date().toISOString()
              changed(task)
              return "failed" as const
            }).pipe(Effect.tap(() => Deferred.fail(spawned, error)))
          ),
          Effect.withSpan("task.run", { attributes: { task: task.name, run: task.restarts + 1 } })
        )

      /** The actor: runs the task, and runs it again while its restart policy says so. */
      const supervise = (task: Task, spawned: Deferred.Deferred<void, SpawnFailed>) =>
        Effect.gen(function*() {
          // Made at the first restart: most tasks never restart.
          let step: Effect.Success<ReturnType<typeof backoffStep>> | undefined
          let inARow = 0
          for (;;) {
            const runStartedAt = Date.now()
            const status = yield* runOnce(task, spawned)
            const uptimeMs = Date.now() - runStartedAt
            const next = decide(task.policy, { status, stopRequested: task.stopRequested, uptimeMs }, inARow)
            if (next._tag === "Done") return
            if (next._tag === "GiveUp") {
              task.error = next.reason
              changed(task)
              return
            }
            if (next.resetBackoff || step === undefined) step = yield* backoffStep(task.policy)
            inARow = next.inARow
            const [, delay] = yield* step(Date.now(), undefined).pipe(Effect.orDie)
            task.status = "restarting"
            task.nextRestartAt = new Date(Date.now() + Duration.toMillis(delay))
            changed(task)
            yield* Effect.sleep(delay).pipe(Effect.withSpan("task.backoff", { attributes: { task: task.name } }))
            task.restarts += 1
            resetRun(task)
            task.buffer.markRun(task.restarts + 1)
            yield* Effect.annotateCurrentSpan({ restart: task.restarts })
          }
        }).pipe(
          // Shutdown or a stop interrupts the actor; its scope has already ended the tree.
          Effect.onInterrupt(() => Effect.sync(() => finish(task, "stopped", task.exitCode, task.signal))),
          Effect.ensuring(Deferred.succeed(task.done, undefined))
        )

      const finish = (task: Task, status: TaskStatus, exitCode: number | null, signal: string | null) => {
        const wasRestarting = task.status === "restarting"
        if (task.status !== "running" && !wasRestarting) return
        task.status = status
        task.exitCode = exitCode
        task.signal = signal
        task.endedAt = new Date().toISOString()
        task.group = undefined
        task.nextRestartAt = null
        if (wasRestarting) {
          // That run's end was announced already.
          changed(task)
          return
        }
        task.lastExit = { status, exitCode, signal, at: task.endedAt }
        changed(task)
        notifier.publish({
          _tag: "TaskExit",
          name: task.name,
          status,
          exitCode,
          signal,
          lastLines: lastLines(task),
          quiet: !task.notifyOnExit
        })
      }

      const runningCount = (except: Task | undefined) =>
        [...tasks.values()].filter((t) => t !== except && !isFinished(t.status)).length

      /** Spawns a new run of `task` and waits until it runs or failed to. */
      const launch = Effect.fnUntraced(function*(task: Task) {
        const cwdProblem = yield* checkDirectory(task.cwd)
        if (cwdProblem !== undefined) {
          task.status = "failed"
          task.error = `working directory ${cwdProblem}`
          return yield* new InvalidCwd({ cwd: task.cwd, reason: cwdProblem })
        }
        const spawned = yield* Deferred.make<void, SpawnFailed>()
        task.done = Deferred.makeUnsafe()
        yield* FiberMap.run(actors, task.name, supervise(task, spawned))
        yield* Deferred.await(spawned)
        return { name: task.name, pid: task.pid, status: task.status } satisfies Started
      })

      /** The policy's word on a command line and a working directory, before anything runs; both as checked. */
      const checkPolicy = Effect.fnUntraced(function*(request: StartRequest) {
        const line = commandLine(request.command, request.args ?? null)
        const denied = config.deny.find((rule) => rule.test(line))
        if (denied !== undefined) {
          return yield* new CommandRefused({ command: line, rule: `it matches --deny ${denied.source}` })
        }
        if (config.allow.length > 0 && !config.allow.some((rule) => rule.test(line))) {
          const rules = config.allow.map((rule) => rule.source).join(", ")
          return yield* new CommandRefused({ command: line, rule: `it matches no --allow rule (${rules})` })
        }
        const cwd = NodePath.resolve(config.cwdRoot ?? process.cwd(), request.cwd ?? ".")
        if (config.cwdRoot !== undefined) {
          const root = yield* Effect.promise(() => realpath(config.cwdRoot!).catch(() => config.cwdRoot!))
          const real = yield* Effect.promise(() => realpath(cwd).catch(() => cwd))
          if (real !== root && !real.startsWith(root + NodePath.sep)) return yield* new CwdOutsideRoot({ cwd, root })
        }
        return { cwd, line }
      })

      const start = Effect.fn("TaskRegistry.start")(function*(request: StartRequest) {
        const { cwd, line } = yield* checkPolicy(request)
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
        return yield* launch(task)
      })

      const stopTask = (task: Task, request: StopRequest) =>
        Effect.gen(function*() {
          const group = task.group
          if (task.status === "restarting") {
            // Between runs: no process to signal, just no further run.
            task.stopRequested = true
            yield* FiberMap.remove(actors, task.name)
            yield* Deferred.await(task.done)
          } else if (task.status === "running" && group !== undefined) {
            task.stopRequested = true
            yield* group.terminate({
              signal: request.force === true ? "SIGKILL" : request.signal ?? "SIGTERM",
              graceMs: request.graceMs ?? config.killGraceMs
            }).pipe(Effect.withSpan("task.kill", { attributes: { task: task.name } }))
            yield* Deferred.await(task.done)
          }
          return ended(task)
        })

      const stop = Effect.fn("TaskRegistry.stop")(function*(name: string, request: StopRequest = {}) {
        return yield* stopTask(yield* lookup(name), request)
      })

      const restart = Effect.fn("TaskRegistry.restart")(function*(name: string) {
        const task = yield* lookup(name)
        yield* stopTask(task, {})
        // Another restart may have won the race while we waited.
        if (!isFinished(task.status)) return { name, pid: task.pid, status: task.status } satisfies Started
        if (runningCount(task) >= config.maxTasks) return yield* new TooManyTasks({ limit: config.maxTasks })
        task.restarts += 1
        resetRun(task)
        task.buffer.markRun(task.restarts + 1)
        return yield* launch(task)
      })

      const list = Effect.sync(() => [...tasks.values()].map(summary))

      const get = (name: string) => Effect.map(lookup(name), info)

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
          return { ...page, lines: page.lines.map(toOutputLine) }
        })

      const wait = Effect.fn("TaskRegistry.wait")(function*(name: string, request: WaitRequest) {
        const task = yield* lookup(name)
        const runNumber = task.restarts
        const startedAt = Date.now()
        const deadline = startedAt + request.timeoutMs
        let cursor = request.since ?? task.buffer.cursor
        let lastProgress = startedAt
        const result = (matched: boolean, timedOut: boolean, line?: BufferedLine): WaitResult => ({
          name,
          matched,
          ...(line !== undefined && { line: toOutputLine(line) }),
          status: task.status,
          exitCode: task.exitCode,
          signal: task.signal,
          timedOut,
          nextCursor: line !== undefined && !line.partial ? line.seq : cursor,
          elapsedMs: Date.now() - startedAt,
          lastLines: matched ? [] : lastLines(task)
        })
        for (;;) {
          // Read the status first: once a run has ended, all its output is in the buffer.
          const over = task.status !== "running" || task.restarts !== runNumber
          if (request.pattern !== undefined) {
            const found = scan(task, cursor, request.pattern)
            if (found.line !== undefined) return result(true, false, found.line)
            cursor = found.cursor
          } else {
            cursor = task.buffer.cursor
          }
          if (over) return result(false, false)
          const now = Date.now()
          if (now >= deadline) return result(false, true)
          if (request.onProgress !== undefined && now - lastProgress >= PROGRESS_EVERY_MS) {
            lastProgress = now
            yield* request.onProgress(now - startedAt, lastLines(task, 1)[0])
          }
          const nextProgress = request.onProgress === undefined ? deadline : lastProgress + PROGRESS_EVERY_MS
          yield* awaitChange(task, Math.max(0, Math.min(deadline, nextProgress) - Date.now()))
          yield* Effect.sleep(Math.max(0, WAIT_SCAN_MS - (Date.now() - now)))
        }
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
        const group = task.group
        if (task.status !== "running" || group === undefined) {
          return yield* new StdinClosed({
            name,
            reason: `it is not running (${describeEnd(task.status, task.exitCode, task.signal)})`
          })
        }
        const bytes = Buffer.from(data, "utf8")
        if (bytes.length > config.maxInputBytes) {
          return yield* new InputTooLarge({ bytes: bytes.length, limit: config.maxInputBytes })
        }
        if (bytes.length > 0 || !eof) {
          const result = yield* group.write(bytes, 1_000)
          if (result._tag === "Closed") return yield* new StdinClosed({ name, reason: result.reason })
        }
        if (eof) group.endInput()
        return bytes.length
      })

      const signal = Effect.fn("TaskRegistry.signal")(function*(name: string, sig: SignalName) {
        const task = yield* lookup(name)
        const group = task.group
        if (task.status !== "running" || group === undefined || !group.signal(sig)) {
          return yield* new TaskNotRunning({
            name,
            status: task.status,
            detail: describeEnd(task.status, task.exitCode, task.signal)
          })
        }
        task.signalsSent.add(sig)
        // Give a terminating signal a moment to take effect, so the answer shows it.
        yield* Deferred.await(task.done).pipe(Effect.timeoutOption(250))
        return ended(task)
      })

      const remove = Effect.fn("TaskRegistry.remove")(function*(name: string, deleteLog = false) {
        const task = yield* lookup(name)
        yield* stopTask(task, {})
        if (tasks.get(name) !== task) return
        tasks.delete(name)
        notifier.publish({ _tag: "TaskRemoved", name })
        if (deleteLog) yield* Effect.promise(() => Promise.allSettled([...task.logFiles].map((path) => unlink(path))))
      })

      return TaskRegistry.of({ start, stop, restart, list, get, read, wait, watch, send, signal, remove })
    })
  )
}

/** The mutable state of one task, owned by the registry. */
interface Task {
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
  group: ProcessGroup.ProcessGroup | undefined
  log: LogFile | undefined
  lastExit: { status: TaskStatus; exitCode: number | null; signal: string | null; at: string } | null
  nextRestartAt: Date | null
  stopRequested: boolean
  signalsSent: Set<string>
  done: Deferred.Deferred<void>
}

const newTask = (
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
  group: undefined,
  log: undefined,
  lastExit: null,
  nextRestartAt: null,
  stopRequested: false,
  signalsSent: new Set(),
  done: Deferred.makeUnsafe()
})

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
}

const changed = (task: Task) => {
  if (task.listeners.size === 0) return
  for (const listener of [...task.listeners]) listener()
}

/** Resolves on the task's next change, or after `ms`. */
const awaitChange = (task: Task, ms: number) =>
  Effect.callback<void>((resume) => {
    // Removed by itself when it fires (a canceller runs only on interruption).
    const listener = () => {
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

const lastLines = (task: Task, n = 5) => task.buffer.read({ tail: n, transform: cleanText }).lines.map((l) => l.text)

/** Colour off unless the caller chose: escape codes are noise to a model. */
const taskEnv = (base: Readonly<Record<string, string>>, own: Readonly<Record<string, string>>) =>
  "FORCE_COLOR" in own || "NO_COLOR" in own ? { ...base, ...own } : { ...base, FORCE_COLOR: "0", NO_COLOR: "1", ...own }

/** The full command line, as policy rules and people read it. */
const commandLine = (command: string, args: ReadonlyArray<string> | null) =>
  args === null ? command : [command, ...args].map(shellQuote).join(" ")

const shellQuote = (word: string) => /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`

const summary = (task: Task): TaskSummary => ({
  name: task.name,
  pid: task.pid,
  status: task.status,
  exitCode: task.exitCode,
  signal: task.signal,
  command: task.commandLine,
  startedAt: task.startedAt,
  endedAt: task.endedAt
})

const info = (task: Task): TaskInfo => {
  const stats = task.buffer.stats()
  const log = task.log?.stats()
  return {
    ...summary(task),
    args: task.args,
    cwd: task.cwd,
    restarts: task.restarts,
    error: task.error,
    stdinOpen: task.group?.isStdinOpen() ?? false,
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

const ended = (task: Task): Ended => ({
  name: task.name,
  status: task.status,
  exitCode: task.exitCode,
  signal: task.signal
})

const toOutputLine = (line: BufferedLine): OutputLine => {
  const out: OutputLine = {
    seq: line.seq,
    stream: line.stream,
    text: line.text,
    time: new Date(line.time).toISOString()
  }
  return line.partial ? { ...out, partial: true } : line.run !== undefined ? { ...out, run: line.run } : out
}

const signalNumber = (name: string): number | undefined =>
  (osConstants.signals as Record<string, number | undefined>)[name]

/** A readable, unused name from the command's program: "npm-1", "npm-2". */
const uniqueName = (command: string, tasks: ReadonlyMap<string, unknown>): string => {
  const program = NodePath.basename(command.trim().split(/\s+/)[0] ?? "")
  const base = program.replace(/[^A-Za-z0-9._-]/g, "").slice(0, 32) || "task"
  for (let i = 1;; i++) {
    const name = `${base}-${i}`
    if (!tasks.has(name)) return name
  }
}

/** Why `cwd` cannot be used, or undefined when it is a directory. */
const checkDirectory = (cwd: string) =>
  Effect.promise(() =>
    stat(cwd).then(
      (s) => s.isDirectory() ? undefined : "is not a directory",
      (error: NodeJS.ErrnoException) => error.code === "ENOENT" ? "does not exist" : `cannot be used (${error.code})`
    )
  )

/** What a task gets with --no-inherit-env: enough to find programs and a home, plus the allowed names. */
const minimalEnv = (allowed: ReadonlyArray<string>): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const key of ["PATH", "HOME", "USER", "LANG", "LC_ALL", "TERM", "TMPDIR", "SHELL", ...allowed]) {
    const value = process.env[key]
    if (value !== undefined) env[key] = value
  }
  return env
}

/** The server's environment, which tasks inherit. */
const inheritedEnv = (): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value
  return env
}
