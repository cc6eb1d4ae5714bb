/**
 * The supervisor: task names to task actors (see TaskActor). The registry owns the map of names,
 * and only it adds or deletes a name; each task's state is its actor's. Commands go to the actor and
 * wait for its answer; reads, waits and subscriptions look at the state the actor last made. Every
 * actor lives in a scope of its own under the registry's, closed in parallel on shutdown, and each
 * actor's runs end their whole process tree as their scopes close.
 */
import { Context, Effect, Exit, FiberSet, Layer, PubSub, Scope } from "effect"
import { unlink } from "node:fs/promises"
import * as NodePath from "node:path"
import { TaskmuxConfig } from "../Config.ts"
import {
  type CommandRefused,
  type CwdOutsideRoot,
  type InputNotRead,
  InputTooLarge,
  type InvalidCwd,
  NotATerminal,
  OneStream,
  ScreenUnavailable,
  SpawnFailed,
  type StdinClosed,
  TaskAlreadyRunning,
  TaskNotFound,
  TaskNotRunning,
  TaskRemoved,
  type TerminalUnavailable,
  TooManyTasks
} from "../domain/errors.ts"
import { matchOnce } from "../domain/pattern.ts"
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
import type { SummaryLine } from "../output/explain.ts"
import { pruneOldLogs } from "../output/LogFile.ts"
import { type BufferedLine, OutputBuffer, type ReadOptions } from "../output/OutputBuffer.ts"
import { EmulatorLoadFailed, type Screen } from "../output/TerminalScreen.ts"
import * as ProcessTree from "../process/ProcessTree.ts"
import { overArgLimit } from "../process/shellLine.ts"
import { Watchdog } from "../process/Watchdog.ts"
import { type GoneTask, goneTask, makeGoneTasks, type RemovedTask } from "./GoneTasks.ts"
import { askedBy, endHint, ownerLeft } from "./hints.ts"
import { Notifier } from "./Notifier.ts"
import type { RestartPolicy } from "./RestartPolicy.ts"
import { defaultPolicy } from "./RestartPolicy.ts"
import { makeShownCursors } from "./ShownCursors.ts"
import { baseEnv, checkPolicy, isGeneratedName, uniqueName } from "./startPolicy.ts"
import * as TaskActor from "./TaskActor.ts"
import type { Ended, Started, StopRequest, TaskState } from "./TaskActor.ts"
import {
  cleanFor,
  cpuOf,
  explainRun,
  info,
  type RecordedTask,
  recordOf,
  runEnv,
  summary,
  toLineRecord
} from "./taskViews.ts"
import { isFenced, Viewer, type ViewerShape } from "./Viewer.ts"
import { awaitChange, type WaitContext, waitForTask, type WaitRequest, type WaitResult } from "./waitForTask.ts"

export type { Started } from "./TaskActor.ts"
export type { WaitRequest, WaitResult } from "./waitForTask.ts"

export type { GoneTask, RemovedTask } from "./GoneTasks.ts"
export { logStopsShort } from "./GoneTasks.ts"
export type { RecordedTask } from "./taskViews.ts"

/**
 * Output that tasks which ended may hold in memory in all, in whole rings (--buffer-bytes; 64 MiB at the
 * default), the latest ended first: older ones keep their last SETTLED_LINES lines (a 64th of a ring at
 * most), and their log files the rest. A build or a test run just ended is read in full.
 */
const ENDED_RINGS = 16
const SETTLED_LINES = 200

/** A task's figures that list_tasks leaves out (get_task has them), for a table of every task. */
export interface Vitals {
  readonly name: string
  readonly cpuPercent: number | null
  readonly restarts: number
  /** The most telling line of its last run's output once it ended (see `headline`). */
  readonly exitHeadline: string | null
}

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
  /** Outlive the session that starts it. */
  readonly keep?: boolean | undefined
}

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
  /**
   * false: a read no answer to the model shows (a resource a client refreshes, the page): where this
   * session's waits start stays where it was.
   */
  readonly shown?: false | undefined
}

export interface OutputPage {
  readonly lines: ReadonlyArray<LineRecord>
  readonly nextCursor: number
  readonly dropped: number
  readonly truncated: boolean
}

/** A task that did not end for good within a start's look: how it is, and how a run that ended at once ended. */
export interface StillRunning {
  readonly status: TaskStatus
  readonly pid: number | null
  readonly endedAtOnce?: {
    readonly exitCode: number | null
    readonly signal: string | null
    readonly lastLines: ReadonlyArray<string>
    readonly errorLines: ReadonlyArray<SummaryLine>
  }
  readonly hint?: string
}

/** How long after a server starts it deletes old run logs, and how often after. */
const PRUNE_AFTER_MS = 30_000
const PRUNE_EVERY_MS = 24 * 60 * 60 * 1000

export class TaskRegistry extends Context.Service<TaskRegistry, {
  /** Starts a task; fails (and records it as `failed`) when it cannot be spawned. */
  readonly start: (request: StartRequest) => Effect.Effect<Started, StartError>
  /** Ends a task's whole process tree; answers once it is gone. */
  readonly stop: (name: string, request?: StopRequest) => Effect.Effect<Ended, TaskNotFound>
  /** Stops a task if it runs, then starts it again with the same command, keeping its output. */
  readonly restart: (
    name: string
  ) => Effect.Effect<
    Started,
    TaskNotFound | TooManyTasks | InvalidCwd | SpawnFailed | TerminalUnavailable | CommandRefused | CwdOutsideRoot
  >
  /** Every task; a failed one with why (`reason`: it could not be spawned, or its policy gave up). */
  readonly list: Effect.Effect<ReadonlyArray<TaskSummary & { readonly reason?: string }>>
  /** What the page's table shows beside the list: CPU, restarts, how the last run ended (see `Vitals`). */
  readonly vitals: Effect.Effect<ReadonlyArray<Vitals>>
  readonly get: (name: string, options?: { readonly envValues?: boolean }) => Effect.Effect<TaskInfo, TaskNotFound>
  readonly read: (name: string, request: ReadRequest) => Effect.Effect<OutputPage, TaskNotFound | OneStream>
  /** What a terminal task's screen shows now, and the cursor of the output it shows (read from there on). */
  readonly screen: (
    name: string,
    options?: { readonly redraw?: boolean }
  ) => Effect.Effect<Screen & { readonly nextCursor: number }, TaskNotFound | NotATerminal | ScreenUnavailable>
  /** Waits for a line matching a pattern, the end of the task, or the timeout, whichever is first. */
  readonly wait: (name: string, request: WaitRequest) => Effect.Effect<WaitResult, TaskNotFound>
  /**
   * Its end, answered as a wait for the end would, if it ends within `ms`; else how it is then (a restart
   * policy may have it `restarting`, with how the run ended). No cursor moves unless it ended for good.
   */
  readonly endedWithin: (
    name: string,
    ms: number
  ) => Effect.Effect<WaitResult | StillRunning, TaskNotFound>
  /**
   * Calls `onChange` (synchronously, often) on new output or a status change, for the life of the scope;
   * on through a remove and a new start under the name. `untaken`: a name no task has yet is watched
   * from its first start, not refused.
   */
  readonly watch: (
    name: string,
    onChange: () => void,
    options?: { readonly untaken?: boolean }
  ) => Effect.Effect<void, TaskNotFound, Scope.Scope>
  /** Writes to a task's stdin; `eof` closes it afterwards. */
  readonly send: (
    name: string,
    data: string,
    eof: boolean
  ) => Effect.Effect<
    TaskActor.Sent,
    TaskNotFound | StdinClosed | InputNotRead | InputTooLarge | CommandRefused | CwdOutsideRoot
  >
  /** Changes a terminal task's size. */
  readonly resize: (name: string, size: TerminalSize) => Effect.Effect<void, TaskNotFound | NotATerminal>
  /** Sends a signal to every process of the task. */
  readonly signal: (name: string, signal: SignalName) => Effect.Effect<Ended, TaskNotFound | TaskNotRunning>
  /** Stops a task if it runs and forgets it; its log files stay unless `deleteLog`. */
  readonly remove: (name: string, deleteLog?: boolean) => Effect.Effect<void, TaskNotFound>
  /** A session ended: its own tasks are stopped (whole trees) and forgotten; kept ones and others' go on. */
  readonly endSession: (session: string) => Effect.Effect<void>
  /** Makes `name` `to`'s, if it is still `from`'s: a dependency that must outlive the session that started it. */
  readonly handOver: (name: string, from: string, to: TaskActor.Owner) => Effect.Effect<void>
  /** Every task as the record on disk keeps it (see daemon/LostTasks.ts, which writes it). */
  readonly records: Effect.Effect<ReadonlyArray<RecordedTask>>
  /** Tasks running now, and how many of them are kept: synchronous (the supervisor counts them in callbacks). */
  readonly running: Effect.Effect<{ readonly all: number; readonly kept: number }>
  /** A task forgotten with its session, by name, while no new task took the name. */
  readonly gone: (name: string) => GoneTask | undefined
  /** Forgets a task gone with its session (remove_task of it), returning what was remembered. */
  readonly forgetGone: (name: string) => GoneTask | undefined
  /** Every task gone with its session that is remembered, the oldest first (for the record on disk). */
  readonly goneTasks: () => ReadonlyArray<GoneTask>
  /** Remembers tasks a past supervisor had seen go with their sessions, but names a task now holds. */
  readonly recall: (tasks: ReadonlyArray<GoneTask>) => void
  /** A task remove_task took, by name, while no new task took the name: who removed it, and when. */
  readonly removed: (name: string) => RemovedTask | undefined
}>()("taskmux/TaskRegistry") {
  static readonly layer: Layer.Layer<TaskRegistry, never, TaskmuxConfig | Notifier | Watchdog> = Layer.effect(
    TaskRegistry,
    Effect.gen(function*() {
      const config = yield* TaskmuxConfig
      const notifier = yield* Notifier
      const watchdog = yield* Watchdog
      const base = baseEnv(config)
      // Closes an ended actor's scope from its loop's last callback, in this layer (interrupted with it).
      const runFork = yield* FiberSet.makeRuntime<never>()
      /** What a session's tasks inherit: its front's or CLI's environment, made once per session. */
      const bases = new WeakMap<ViewerShape, Record<string, string>>()
      const baseOf = (viewer: ViewerShape) => {
        if (viewer.env === undefined) return base
        let made = bases.get(viewer)
        if (made === undefined) bases.set(viewer, made = baseEnv(viewer.policy ?? config, viewer.env))
        return made
      }
      const context: TaskActor.ActorContext = {
        mayRun: (name) => runningCount(actors.get(name)) < config.maxTasks,
        // A removed task's actor that took no new start: its name is free again.
        onEnd: (actor) => {
          if (actors.get(actor.name) === actor) {
            actors.delete(actor.name)
            // Its watchers let go of it (and of its output) until a task takes the name again.
            for (const follow of nameWatchers.get(actor.name) ?? []) follow(undefined)
          }
          const scope = scopes.get(actor)
          if (scope !== undefined) runFork(Scope.close(scope, Exit.void))
        },
        config,
        notifier,
        watchdog,
        newBuffer: () =>
          new OutputBuffer({
            maxLines: config.bufferLines,
            maxBytes: config.bufferBytes,
            maxLineBytes: config.maxLineBytes
          })
      }
      // Each actor's scope is a child of this one; on shutdown they all close at once.
      const actorsScope = yield* Scope.make("parallel")
      yield* Effect.addFinalizer(() => Scope.close(actorsScope, Exit.void))
      /** Names to actors: only the registry's own operations add or delete one. */
      const actors = new Map<string, TaskActor.TaskActor>()
      /** Watchers of a name, told when its actor ends (removed) and when it gets a new one. */
      const nameWatchers = new Map<string, Set<(actor: TaskActor.TaskActor | undefined) => void>>()
      /** Each actor's own scope, closed when the actor ends. */
      const scopes = new WeakMap<TaskActor.TaskActor, Scope.Closeable>()
      /** Where each session's answers got to in each task's output (a replaced task's is new). */
      const shown = makeShownCursors()
      /** Shown up to `cursor`; `last`, the line at it, is remembered as shown when it has no newline yet. */
      const show = (viewer: ViewerShape, state: TaskState, cursor: number, last?: BufferedLine, typed?: boolean) =>
        shown.show(
          viewer,
          state.buffer,
          cursor,
          last?.partial === true ? { seq: last.seq, text: cleanFor(state)(last.text, last) } : undefined,
          typed
        )

      /** The tasks there are: removed ones wait only for their actor to end. */
      const listed = () => [...actors.values()].filter((actor) => !actor.state().removed)

      // A long conversation's one-shot runs each held a whole ring until removed (150 builds: 700 MB).
      // Past ENDED_RINGS rings, counted from the latest end back, a task that ended keeps its last lines only;
      // the latest always keeps all of its own.
      const settleEnded = Effect.suspend(() => {
        const ended = listed().filter((actor) => isFinished(actor.state().status) && actor.state().endedAt !== null)
        const budget = ENDED_RINGS * config.bufferBytes
        // Every end asks (a mass stop, hundreds of times): while all the ended rings fit, nothing is sorted.
        let total = 0
        for (const actor of ended) total += actor.state().buffer.stats().bytes
        if (total <= budget) return Effect.void
        // ISO times of one format: compared as strings, newest first (localeCompare would load ICU's collation).
        ended.sort((a, b) => {
          const x = a.state().endedAt!
          const y = b.state().endedAt!
          return x < y ? 1 : x > y ? -1 : 0
        })
        let held = 0
        const over = ended.filter((actor, i) => (held += actor.state().buffer.stats().bytes) > budget && i > 0)
        const settled = Math.max(1024, Math.floor(config.bufferBytes / 64))
        return Effect.forEach(over, (actor) => Effect.ignore(actor.settle(SETTLED_LINES, settled)), {
          discard: true
        })
      })
      const exits = yield* notifier.subscribe
      yield* PubSub.take(exits).pipe(
        Effect.flatMap((event) =>
          event._tag === "TaskExit" && event.restartAt === undefined ? settleEnded : Effect.void
        ),
        Effect.forever,
        Effect.forkScoped
      )

      // Run logs from past weeks go, once the server has settled (a directory of thousands of files read
      // and stat'ed would slow the start for nothing that waits on it), and every day after: a supervisor
      // a kept task keeps for months prunes its own runs' logs too, but for those of its tasks.
      const prune = () => {
        const inUse = new Set(
          [...actors.values()].flatMap((actor) => actor.state().logFiles.map((f) => NodePath.resolve(f)))
        )
        void pruneOldLogs(config.logDir, config.logKeepDays, Date.now(), inUse).catch(() => {})
      }
      // Node timers, unref'd: they must not hold a server open that has nothing else to do.
      yield* Effect.acquireRelease(
        Effect.sync(() => [setTimeout(prune, PRUNE_AFTER_MS).unref(), setInterval(prune, PRUNE_EVERY_MS).unref()]),
        ([first, daily]) =>
          Effect.sync(() => {
            clearTimeout(first)
            clearInterval(daily)
          })
      )

      const notFound = (name: string) => new TaskNotFound({ name, known: listed().map((actor) => actor.name) })

      /** The actor of `name`; a removed task's only when `removedToo` (commands still reach it, in order). */
      const actorOf = (name: string, removedToo: boolean) =>
        Effect.suspend(() => {
          const actor = actors.get(name)
          return actor === undefined || (!removedToo && actor.state().removed)
            ? Effect.fail(notFound(name))
            : Effect.succeed(actor)
        })

      /** The task a reader asks about. */
      const lookup = (name: string) => actorOf(name, false)

      /**
       * A command to a task, through its actor even when removed: commands to a name are taken in the
       * order they were sent, so a stop sent after a remove and a new start finds the new task.
       */
      const command = <A, E>(name: string, f: (actor: TaskActor.TaskActor) => Effect.Effect<A, E | TaskRemoved>) =>
        Effect.flatMap(actorOf(name, true), f).pipe(
          Effect.catchIf(
            (error): error is TaskRemoved => error instanceof TaskRemoved,
            () => Effect.fail(notFound(name))
          )
        ) as Effect.Effect<A, Exclude<E, TaskRemoved> | TaskNotFound>

      /** Asked at every start: counted in place, with no lists made (a burst of starts asks hundreds of times). */
      const runningCount = (except: TaskActor.TaskActor | undefined) => {
        let count = 0
        for (const actor of actors.values()) {
          const state = actor.state()
          if (actor !== except && !state.removed && !isFinished(state.status)) count += 1
        }
        return count
      }

      /**
       * A start without a name of what ended before for the same owner (the same command, in the same
       * directory, under a name it was given, not one a caller chose): that task, which it replaces as a
       * start by its name would. One-shot runs (a test, a
       * build, a kept run over HTTP) no longer pile up under new names, in every list and in the record.
       */
      const endedTwin = (spec: TaskActor.TaskSpec) =>
        [...actors.values()].find((actor) => {
          const state = actor.state()
          return isFinished(state.status) && !state.removed && state.session === spec.session &&
            state.commandLine === spec.commandLine && state.cwd === spec.cwd &&
            isGeneratedName(state.name, spec.command)
        })

      /** The actor a start goes to: the finished task it replaces, or a new one under a name claimed now. */
      const claim = Effect.fnUntraced(function*(request: StartRequest, spec: TaskActor.TaskSpec) {
        for (;;) {
          const existing = request.name === undefined ? endedTwin(spec) : actors.get(request.name)
          // Its actor decides, in the order of its commands: a stop sent just before this start comes first.
          if (existing !== undefined) return existing
          if (runningCount(undefined) >= config.maxTasks) return yield* new TooManyTasks({ limit: config.maxTasks })
          const name = request.name ?? uniqueName(request.command, actors)
          const scope = yield* Scope.fork(actorsScope, "sequential")
          const actor = yield* TaskActor.make(name, spec, context).pipe(Scope.provide(scope))
          if (actors.has(name) || runningCount(undefined) >= config.maxTasks) {
            // Another start took the name (or the last place) while this one made its actor: look again.
            yield* Scope.close(scope, Exit.void)
            continue
          }
          actors.set(name, actor)
          scopes.set(actor, scope)
          past.taken(name)
          for (const follow of nameWatchers.get(name) ?? []) follow(actor)
          notifier.publish({ _tag: "TaskAdded", name })
          return actor
        }
      })

      const start = Effect.fn("TaskRegistry.start")(function*(request: StartRequest) {
        const viewer = yield* Viewer
        // A session's ~ is its client's home (a supervisor serves whoever connects).
        const home = viewer.env?.HOME
        const { cwd, line } = yield* checkPolicy(viewer.policy ?? config, request, viewer.cwd, home || undefined)
        if (overArgLimit(request.command, request.args, request.env, request.terminal !== undefined)) {
          return yield* new SpawnFailed({ command: line, code: "E2BIG", reason: "argument list too long" })
        }
        const spec: TaskActor.TaskSpec = {
          command: request.command,
          args: request.args ?? null,
          commandLine: line,
          cwd,
          env: request.env ?? {},
          baseEnv: baseOf(viewer),
          notifyOnExit: request.notifyOnExit ?? true,
          policy: { ...defaultPolicy, ...request.restart },
          terminal: request.terminal ?? null,
          // A server alone (--isolated) ends with its one session, and every task with it: none is kept.
          session: request.keep === true && !config.isolated ? null : viewer.id,
          client: viewer.client() ?? null,
          since: new Date().toISOString()
        }
        for (;;) {
          const actor = yield* claim(request, spec)
          yield* Effect.annotateCurrentSpan({ name: actor.name })
          const started = yield* actor.start(spec, viewer.id).pipe(
            Effect.map((started) => ({ started })),
            // Its actor ended (removed) before it took the start: the name is free, start afresh.
            Effect.catchTag("TaskRemoved", () =>
              Effect.sync(() => {
                if (actors.get(actor.name) === actor) actors.delete(actor.name)
                return undefined
              })),
            // A start that failed under a name made up for it (a bad cwd, a missing program): the answer
            // says why, and nobody would ask for "pwd-1" by name, so it is not kept as a failed task.
            Effect.tapError(() =>
              request.name === undefined ? Effect.ignore(actor.remove(askedBy("start_task", viewer))) : Effect.void
            )
          )
          if (started !== undefined) return started.started
        }
      })

      const stop = Effect.fn("TaskRegistry.stop")(function*(name: string, request: StopRequest = {}) {
        const by = request.by ?? askedBy("stop_task", yield* Viewer)
        return yield* command(name, (actor) => actor.stop({ ...request, by }))
      })

      /**
       * A fenced session runs again, or types into, only what its fence would let it start: another's kept
       * `deploy`, a shell (typing runs what the shell runs), one handed to it when another session ended.
       */
      const withinFence = (viewer: ViewerShape, task: TaskState) =>
        isFenced(viewer.policy)
          ? Effect.asVoid(
            checkPolicy(viewer.policy, { command: task.command, args: task.args ?? undefined, cwd: task.cwd })
          )
          : Effect.void

      const restart = Effect.fn("TaskRegistry.restart")(function*(name: string) {
        const viewer = yield* Viewer
        // Looked up only then: a restart sent right behind a start that brings a removed task back goes to it.
        if (isFenced(viewer.policy)) yield* withinFence(viewer, (yield* lookup(name)).state())
        const by = askedBy("restart_task", viewer)
        return yield* command(name, (actor) => actor.restart(by))
      })

      const list = Effect.flatMap(
        Effect.service(Viewer),
        (viewer) =>
          Effect.sync(() =>
            ProcessTree.withOneLook(() =>
              listed().map((actor) => {
                const state = actor.state()
                const listedTask = summary(state, actor.usage, viewer)
                // Why it failed to start, or why its restart policy gave up (it is crashed then).
                return isFinished(state.status) && state.error !== null
                  ? { ...listedTask, reason: state.error }
                  : listedTask
              })
            )
          )
      )

      const vitals = Effect.sync(() =>
        ProcessTree.withOneLook(() =>
          listed().map((actor): Vitals => {
            const state = actor.state()
            return {
              name: state.name,
              cpuPercent: cpuOf(state, actor.usage),
              restarts: state.restarts,
              exitHeadline: state.exitHeadline
            }
          })
        )
      )

      const endSession = Effect.fn("TaskRegistry.endSession")(function*(session: string) {
        const own = listed().filter((actor) => actor.state().session === session)
        // Whole trees, all at once; the log files stay. Through each actor, after what its mailbox holds:
        // a start another session sent before this may have made the task theirs, and then it stays.
        yield* Effect.forEach(
          own,
          (actor) =>
            Effect.suspend(() => {
              const ran = !isFinished(actor.state().status)
              const by = ownerLeft(actor.state().client)
              // One task's end failing (a bug, said in the log) neither stops the others' nor keeps them.
              return Effect.ignoreCause(actor.removeIfOwnedBy(session, by), { log: true }).pipe(
                Effect.andThen(Effect.sync(() => {
                  // Removed, and its name not taken since by a new start.
                  if (actor.state().removed && (actors.get(actor.name) ?? actor) === actor) {
                    const state = actor.state()
                    past.remember(goneTask(state, ran, by, state.log?.stats().error ?? null))
                  }
                }))
              )
            }),
          { concurrency: "unbounded" }
        )
      })

      /** What became of names no task holds now: gone with their session, or removed. */
      const past = makeGoneTasks()

      const handOver = (name: string, from: string, to: TaskActor.Owner) =>
        Effect.ignore(Effect.flatMap(lookup(name), (actor) => actor.handOver(from, to)))

      const records = Effect.sync(() => listed().map((actor) => recordOf(actor.state())))

      const running = Effect.sync(() => {
        const live = listed().filter((actor) => !isFinished(actor.state().status))
        return { all: live.length, kept: live.filter((actor) => actor.state().session === null).length }
      })

      const get = (name: string, options: { readonly envValues?: boolean } = {}) =>
        Effect.map(Effect.zip(lookup(name), Effect.service(Viewer)), ([actor, viewer]): TaskInfo => {
          const state = actor.state()
          // Made the same way again, not kept per task.
          const env = runEnv(state.baseEnv, state)
          return {
            ...info(state, actor.usage, actor.subscribers(), viewer),
            env: Object.keys(env).sort(),
            ...(options.envValues === true && { envValues: env })
          }
        })

      const readLines = (state: TaskState, request: ReadRequest) => {
        const grep = request.grep
        const options: ReadOptions = {
          ...(request.stream !== undefined && { stream: request.stream }),
          ...(request.tail !== undefined && { tail: request.tail }),
          ...(request.since !== undefined && { since: request.since }),
          maxBytes: request.maxBytes ?? config.readMaxBytes,
          ...(request.raw !== true && { transform: cleanFor(state) }),
          ...(grep !== undefined && { filter: (text: string) => matchOnce(grep, text) })
        }
        return state.buffer.read(options)
      }

      const read = (name: string, request: ReadRequest) =>
        Effect.flatMap(lookup(name), (actor) => {
          const state = actor.state()
          if (state.terminal !== null && (request.stream === "stdout" || request.stream === "stderr")) {
            return Effect.fail(new OneStream({ name, stream: request.stream }))
          }
          return Effect.map(Effect.service(Viewer), (viewer) => {
            const page = readLines(state, request)
            // Up to the last line it holds: lines a grep, a stream or the byte limit left out were not shown.
            const last = page.lines.at(-1)
            if (request.shown !== false && last !== undefined) {
              show(viewer, state, last.partial ? last.seq - 1 : last.seq, last)
            }
            return {
              ...page,
              lines: page.lines.map((line) => toLineRecord(state, line)),
              ...(state.screen?.fullScreen === true && { fullScreen: true })
            }
          })
        })

      const screen = (name: string, options: { readonly redraw?: boolean } = {}) =>
        Effect.flatMap(lookup(name), (actor): Effect.Effect<
          Screen & { readonly nextCursor: number },
          NotATerminal | ScreenUnavailable
        > => {
          const { buffer, screen: terminal } = actor.state()
          // Taken first: the screen shows at least the output before this cursor (a little after it, at most).
          const nextCursor = buffer.cursor
          if (terminal === null) return Effect.fail(new NotATerminal({ name, what: "screen" }))
          return Effect.tryPromise({
            try: async () => ({ ...await terminal.render(options), nextCursor }),
            catch: (error) => error
          }).pipe(
            // An emulator that could not be loaded is said (it may load at the next read); anything else is a bug.
            Effect.catch((error) =>
              error instanceof EmulatorLoadFailed
                ? Effect.fail(new ScreenUnavailable({ name, reason: error.message }))
                : Effect.die(error)
            )
          )
        })

      const waitContext: WaitContext = { bufferLines: config.bufferLines, listed, show, shown }
      const wait = Effect.fn("TaskRegistry.wait")(function*(name: string, request: WaitRequest) {
        return yield* waitForTask(waitContext, yield* lookup(name), yield* Viewer, request)
      })

      const endedWithin = Effect.fnUntraced(function*(name: string, ms: number) {
        const actor = yield* lookup(name)
        const before = actor.state().lastExit
        yield* awaitChange(actor, ms, () => isFinished(actor.state().status) || actor.state().lastExit !== before)
        const now = actor.state()
        if (isFinished(now.status)) return yield* wait(name, { exit: true, since: 0, timeoutMs: 0 })
        const { pid, status, lastExit } = now
        if (lastExit === null || lastExit === before) return { status, pid }
        // Not the program's end: another call's (a restart_task from another session, a signal under an
        // `always` policy), which runs it again.
        if (lastExit.status === "stopped") {
          return {
            status,
            pid,
            hint: `${now.stoppedBy ?? "Another call"} ended this run at once, and it runs again: get_task shows the ` +
              "new run."
          }
        }
        // Ended at once, and its restart policy runs it again: how that run ended, as an end's answer says it.
        const { errorLines, lastLines } = explainRun(now)
        return {
          status,
          pid,
          endedAtOnce: { exitCode: lastExit.exitCode, signal: lastExit.signal, lastLines, errorLines },
          ...endHint(now, lastExit.exitCode)
        }
      })

      /** Follows the name: a task removed and started again under it is watched on. */
      const watch = Effect.fnUntraced(function*(
        name: string,
        onChange: () => void,
        options?: { readonly untaken?: boolean }
      ) {
        const actor = options?.untaken === true
          ? yield* Effect.orElseSucceed(lookup(name), () => undefined)
          : yield* lookup(name)
        let unsubscribe = actor === undefined ? () => {} : actor.subscribe(onChange)
        const follow = (actor: TaskActor.TaskActor | undefined) => {
          unsubscribe()
          unsubscribe = actor === undefined ? () => {} : actor.subscribe(onChange)
          if (actor !== undefined) onChange()
        }
        yield* Effect.acquireRelease(
          Effect.sync(() => {
            const followers = nameWatchers.get(name) ?? new Set()
            nameWatchers.set(name, followers.add(follow))
          }),
          () =>
            Effect.sync(() => {
              unsubscribe()
              const followers = nameWatchers.get(name)
              followers?.delete(follow)
              if (followers?.size === 0) nameWatchers.delete(name)
            })
        )
      })

      const send = Effect.fn("TaskRegistry.send")(function*(name: string, data: string, eof: boolean) {
        const bytes = Buffer.from(data, "utf8")
        if (bytes.length > config.maxInputBytes) {
          return yield* new InputTooLarge({ bytes: bytes.length, limit: config.maxInputBytes })
        }
        // What it printed before these keys is not their answer: a wait that follows starts after it, and
        // the line typed at (a prompt) does not match again once the echo of the keys completes it.
        const before = (yield* lookup(name)).state()
        const viewer = yield* Viewer
        yield* withinFence(viewer, before)
        const typed = data !== "" || eof
          ? before.buffer.read({ tail: 1, transform: cleanFor(before) }).lines.at(-1)
          : undefined
        const sent = yield* command(name, (actor) => actor.input(bytes, eof))
        if (typed !== undefined) show(viewer, before, typed.partial ? typed.seq - 1 : typed.seq, typed, true)
        return sent
      })

      const resize = Effect.fn("TaskRegistry.resize")(function*(name: string, size: TerminalSize) {
        yield* command(name, (actor) => actor.resize(size))
      })

      const signal = Effect.fn("TaskRegistry.signal")(function*(name: string, sig: SignalName) {
        const by = askedBy("signal_task", yield* Viewer)
        const { actor, sent } = yield* command(
          name,
          (actor) => Effect.map(actor.signal(sig, by), (sent) => ({ actor, sent }))
        )
        if (!sent) {
          const state = actor.state()
          return yield* new TaskNotRunning({
            name,
            status: state.status,
            detail: describeEnd(state.status, state.exitCode, state.signal)
          })
        }
        // Give a terminating signal a moment to take effect, so the answer shows it; a look after it
        // shows what it did (paused, or running again).
        yield* awaitChange(actor, 250, () => isFinished(actor.state().status))
        actor.usage.outdate()
        return TaskActor.ended(actor.state())
      })

      const remove = Effect.fn("TaskRegistry.remove")(function*(name: string, deleteLog = false) {
        const by = askedBy("remove_task", yield* Viewer)
        const { actor, logFiles } = yield* command(
          name,
          (actor) => Effect.map(actor.remove(by), (logFiles) => ({ actor, logFiles }))
        )
        if (deleteLog) yield* Effect.promise(() => Promise.allSettled(logFiles.map((path) => unlink(path))))
        const state = actor.state()
        // Its name not taken since by a new start.
        if ((actors.get(name) ?? actor) === actor) {
          past.removedNow({
            name,
            by,
            at: new Date().toISOString(),
            commandLine: state.commandLine,
            logFile: deleteLog ? null : state.log?.path ?? null
          })
        }
      })

      return TaskRegistry.of({
        start,
        stop,
        restart,
        list,
        vitals,
        get,
        read,
        screen,
        wait,
        endedWithin,
        watch,
        send,
        resize,
        signal,
        remove,
        endSession,
        gone: past.gone,
        forgetGone: past.forgetGone,
        goneTasks: past.goneTasks,
        recall: (tasks) => past.recall(tasks, (name) => actors.has(name)),
        removed: past.removed,
        handOver,
        records,
        running
      })
    })
  )
}
