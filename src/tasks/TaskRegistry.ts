/**
 * The supervisor: task names to task actors. Each run of a task is a fiber in a
 * `FiberMap` that owns its process group (a scoped resource) and feeds its output
 * buffer; closing the registry's scope interrupts every actor, and each actor's scope
 * ends its whole process tree.
 */
import { constants as osConstants } from "node:os"
import * as NodePath from "node:path"
import { stat } from "node:fs/promises"
import { Context, Deferred, Effect, FiberMap, Layer, PubSub } from "effect"
import { TaskmuxConfig } from "../Config.ts"
import {
  InvalidCwd,
  SpawnFailed,
  StdinClosed,
  TaskAlreadyRunning,
  TaskNotFound,
  TaskNotRunning
} from "../domain/errors.ts"
import type { SignalName } from "../domain/Signals.ts"
import {
  classifyExit,
  describeEnd,
  type OutputLine,
  type TaskInfo,
  type TaskStatus,
  type TaskSummary
} from "../domain/Task.ts"
import { OutputBuffer, type ReadOptions, type StreamId } from "./OutputBuffer.ts"
import * as ProcessGroup from "./ProcessGroup.ts"

export interface StartRequest {
  readonly command: string
  readonly args?: ReadonlyArray<string> | undefined
  readonly name?: string | undefined
  readonly cwd?: string | undefined
  readonly env?: Readonly<Record<string, string>> | undefined
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

export interface Ended {
  readonly name: string
  readonly status: TaskStatus
  readonly exitCode: number | null
  readonly signal: string | null
}

export interface OutputPage {
  readonly lines: ReadonlyArray<OutputLine>
  readonly nextCursor: number
  readonly dropped: number
  readonly truncated: boolean
}

/** Published when a run of a task ends, whatever the cause. */
export interface TaskExit extends Ended {
  readonly lastLines: ReadonlyArray<string>
}

export class TaskRegistry extends Context.Service<TaskRegistry, {
  /** Starts a task; fails (and records it as `failed`) when it cannot be spawned. */
  readonly start: (request: StartRequest) => Effect.Effect<Started, TaskAlreadyRunning | InvalidCwd | SpawnFailed>
  /** Ends a task's whole process tree; answers once it is gone. */
  readonly stop: (name: string, request?: StopRequest) => Effect.Effect<Ended, TaskNotFound>
  /** Stops a task if it runs, then starts it again with the same command, keeping its output. */
  readonly restart: (name: string) => Effect.Effect<Started, TaskNotFound | InvalidCwd | SpawnFailed>
  readonly list: Effect.Effect<ReadonlyArray<TaskSummary>>
  readonly get: (name: string) => Effect.Effect<TaskInfo, TaskNotFound>
  readonly read: (name: string, options: ReadOptions) => Effect.Effect<OutputPage, TaskNotFound>
  /** Writes to a task's stdin; `eof` closes it afterwards. */
  readonly send: (name: string, data: string, eof: boolean) => Effect.Effect<number, TaskNotFound | StdinClosed>
  /** Sends a signal to the task's process group. */
  readonly signal: (name: string, signal: SignalName) => Effect.Effect<Ended, TaskNotFound | TaskNotRunning>
  /** Stops a task if it runs and forgets it. */
  readonly remove: (name: string) => Effect.Effect<void, TaskNotFound>
  /** Every run's end, for notifications. */
  readonly exits: PubSub.PubSub<TaskExit>
}>()("taskmux/TaskRegistry") {
  static readonly layer: Layer.Layer<TaskRegistry, never, TaskmuxConfig> = Layer.effect(
    TaskRegistry,
    Effect.gen(function*() {
      const config = yield* TaskmuxConfig
      const actors = yield* FiberMap.make<string>()
      const exits = yield* PubSub.unbounded<TaskExit>()
      const tasks = new Map<string, Task>()
      const baseEnv = inheritedEnv()

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

      /** One run of a task: spawn, report the pid, wait for the end, record how it ended. */
      const run = (task: Task, spawned: Deferred.Deferred<void, SpawnFailed>) =>
        Effect.gen(function*() {
          const group = yield* ProcessGroup.spawn({
            command: task.command,
            args: task.args ?? undefined,
            cwd: task.cwd,
            env: { ...baseEnv, ...task.env },
            releaseGraceMs: config.shutdownGraceMs
          }, task.buffer)
          task.group = group
          task.pid = group.pid
          yield* Deferred.succeed(spawned, undefined)
          const exit = yield* group.exited
          finish(task, classifyExit({ ...exit, stopRequested: task.stopRequested, signalsSent: task.signalsSent }, signalNumber), exit.code, exit.signal)
        }).pipe(
          Effect.scoped,
          Effect.catch((error) =>
            Effect.sync(() => {
              task.status = "failed"
              task.error = error.message
              task.endedAt = new Date()
            }).pipe(Effect.andThen(Deferred.fail(spawned, error)))
          ),
          // Shutdown interrupts the actor; its scope has already ended the tree.
          Effect.onInterrupt(() => Effect.sync(() => finish(task, "stopped", null, null))),
          Effect.ensuring(Deferred.succeed(task.done, undefined))
        )

      const finish = (task: Task, status: TaskStatus, exitCode: number | null, signal: string | null) => {
        if (task.status !== "running") return
        task.status = status
        task.exitCode = exitCode
        task.signal = signal
        task.endedAt = new Date()
        task.group = undefined
        const lastLines = task.buffer.read({ tail: 5 }).lines.map((l) => l.text)
        PubSub.publishUnsafe(exits, { name: task.name, status, exitCode, signal, lastLines })
      }

      /** Spawns a new run of `task` and waits until it runs or failed to. */
      const launch = Effect.fnUntraced(function*(task: Task) {
        const cwdProblem = yield* checkDirectory(task.cwd)
        if (cwdProblem !== undefined) {
          task.status = "failed"
          task.error = `working directory ${cwdProblem}`
          return yield* new InvalidCwd({ cwd: task.cwd, reason: cwdProblem })
        }
        const spawned = yield* Deferred.make<void, SpawnFailed>()
        yield* FiberMap.run(actors, task.name, run(task, spawned))
        yield* Deferred.await(spawned)
        return { name: task.name, pid: task.pid, status: task.status } satisfies Started
      })

      const start = Effect.fn("TaskRegistry.start")(function*(request: StartRequest) {
        // Check and claim the name in one synchronous step, so two concurrent starts cannot both win.
        const task = yield* Effect.suspend(() => {
          const existing = request.name === undefined ? undefined : tasks.get(request.name)
          if (existing !== undefined && existing.status === "running") {
            return Effect.fail(new TaskAlreadyRunning({ name: existing.name, pid: existing.pid }))
          }
          const name = request.name ?? uniqueName(request.command, tasks)
          const task = newTask(name, request, newBuffer())
          tasks.set(name, task)
          return Effect.succeed(task)
        })
        yield* Effect.annotateCurrentSpan({ name: task.name })
        return yield* launch(task)
      })

      const stopTask = (task: Task, request: StopRequest) =>
        Effect.gen(function*() {
          const group = task.group
          if (task.status === "running" && group !== undefined) {
            task.stopRequested = true
            yield* group.terminate({
              signal: request.force === true ? "SIGKILL" : request.signal ?? "SIGTERM",
              graceMs: request.graceMs ?? config.killGraceMs
            })
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
        if (task.status === "running") return { name, pid: task.pid, status: task.status } satisfies Started
        task.restarts += 1
        resetRun(task)
        return yield* launch(task)
      })

      const list = Effect.sync(() => [...tasks.values()].map(summary))

      const get = (name: string) => Effect.map(lookup(name), info)

      const read = (name: string, options: ReadOptions) =>
        Effect.map(lookup(name), (task) => {
          const page = task.buffer.read({ ...options, maxBytes: options.maxBytes ?? config.readMaxBytes })
          return { ...page, lines: page.lines.map(toOutputLine) }
        })

      const send = Effect.fn("TaskRegistry.send")(function*(name: string, data: string, eof: boolean) {
        const task = yield* lookup(name)
        const group = task.group
        if (task.status !== "running" || group === undefined) {
          return yield* new StdinClosed({ name, reason: `it is not running (${describeEnd(task.status, task.exitCode, task.signal)})` })
        }
        const bytes = Buffer.from(data, "utf8")
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

      const remove = Effect.fn("TaskRegistry.remove")(function*(name: string) {
        const task = yield* lookup(name)
        yield* stopTask(task, {})
        if (tasks.get(name) === task) tasks.delete(name)
      })

      return TaskRegistry.of({ start, stop, restart, list, get, read, send, signal, remove, exits })
    })
  )
}

/** The mutable state of one task, owned by the registry. */
interface Task {
  readonly name: string
  readonly command: string
  readonly args: ReadonlyArray<string> | null
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  readonly buffer: OutputBuffer
  status: TaskStatus
  pid: number | null
  exitCode: number | null
  signal: string | null
  error: string | null
  restarts: number
  startedAt: Date
  endedAt: Date | null
  group: ProcessGroup.ProcessGroup | undefined
  stopRequested: boolean
  signalsSent: Set<string>
  done: Deferred.Deferred<void>
}

const newTask = (name: string, request: StartRequest, buffer: OutputBuffer): Task => ({
  name,
  command: request.command,
  args: request.args ?? null,
  cwd: NodePath.resolve(request.cwd ?? process.cwd()),
  env: request.env ?? {},
  buffer,
  status: "running",
  pid: null,
  exitCode: null,
  signal: null,
  error: null,
  restarts: 0,
  startedAt: new Date(),
  endedAt: null,
  group: undefined,
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
  task.startedAt = new Date()
  task.endedAt = null
  task.stopRequested = false
  task.signalsSent = new Set()
  task.done = Deferred.makeUnsafe()
}

const displayCommand = (task: Task) =>
  task.args === null ? task.command : [task.command, ...task.args].map(shellQuote).join(" ")

const shellQuote = (word: string) => /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`

const summary = (task: Task): TaskSummary => ({
  name: task.name,
  pid: task.pid,
  status: task.status,
  exitCode: task.exitCode,
  signal: task.signal,
  command: displayCommand(task),
  startedAt: task.startedAt.toISOString(),
  endedAt: task.endedAt?.toISOString() ?? null
})

const info = (task: Task): TaskInfo => {
  const stats = task.buffer.stats()
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
    nextCursor: task.buffer.cursor
  }
}

const ended = (task: Task): Ended => ({
  name: task.name,
  status: task.status,
  exitCode: task.exitCode,
  signal: task.signal
})

const toOutputLine = (line: { seq: number; stream: StreamId; text: string; time: number; partial?: true }) => {
  const out: OutputLine = { seq: line.seq, stream: line.stream, text: line.text, time: new Date(line.time).toISOString() }
  return line.partial ? { ...out, partial: true } : out
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

/** The server's environment, which tasks inherit. */
const inheritedEnv = (): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value
  return env
}

