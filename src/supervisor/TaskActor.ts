/**
 * One task as an actor: a fiber that owns the task's state and takes commands (start, stop,
 * signal, input, resize, restart, remove) from its mailbox, one at a time, in order, each answered
 * through a Deferred. So a stop sent while a start is spawning is simply the next command: it stops
 * what the start started. The runs' own events (a run ended, a backoff is over) come through the
 * same mailbox, so nothing but this fiber ever replaces the state. A few marks are set from the
 * caller's side on purpose, as a signal (a SIGKILL above all) must not queue behind a slow stop: a
 * forced stop's `killed`, a signal's record on the run that a stop is ending (`signalsSent`), and a
 * session end's deadline (`sessionEnd`, and its SIGKILL timer).
 *
 * Readers (list, get, read, wait, resources) never lock or write: `state` is an immutable value the
 * actor replaces, and `subscribe` tells them of each new one and of new output. Output itself takes
 * no turn in the mailbox: the stream callbacks append to the task's ring synchronously (the flood
 * path), as the ring belongs to the task and only they write to it.
 */
import {
  Cause,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  FiberSet,
  Option,
  Queue,
  Schedule,
  Scope,
  type Tracer
} from "effect"
import type { TaskmuxConfig } from "../Config.ts"
import {
  InputNotRead,
  InvalidCwd,
  NotATerminal,
  SpawnFailed,
  StdinClosed,
  TaskAlreadyRunning,
  TaskRemoved,
  type TerminalUnavailable,
  TooManyTasks
} from "../domain/errors.ts"
import { type SignalName, signalNumber } from "../domain/Signals.ts"
import { classifyExit, describeEnd, isFinished, type TaskStatus } from "../domain/Task.ts"
import type { TerminalSize } from "../domain/TerminalSize.ts"
import { capTail, newlines } from "../output/capTail.ts"
import { headline } from "../output/explain.ts"
import { dropOldRunLogs, LogFile } from "../output/LogFile.ts"
import type { OutputBuffer } from "../output/OutputBuffer.ts"
import { TerminalScreen } from "../output/TerminalScreen.ts"
import * as ProcessTree from "../process/ProcessTree.ts"
import * as procfs from "../process/procfs.ts"
import { spawn } from "../process/spawn.ts"
import type { ExitInfo, OutputSink, TaskProcess } from "../process/TaskProcess.ts"
import { UsageSampler } from "../process/usage.ts"
import type { Watchdog } from "../process/Watchdog.ts"
import type { Notifier } from "./Notifier.ts"
import { backoff, decide, type RestartPolicy } from "./RestartPolicy.ts"
import { checkDirectory, type DirectoryIdentity, isSameDirectory, lookAtDirectory } from "./startPolicy.ts"
import {
  afterRun,
  failedRun,
  freshState,
  resized,
  type RunEnd,
  runReset,
  stoppedNow,
  type TaskSpec,
  type TaskState
} from "./TaskState.ts"
import { explainRun, runEnv } from "./taskViews.ts"

export type { LastExit, TaskSpec, TaskState } from "./TaskState.ts"

/**
 * Run logs a task keeps, the newest: a task that restarts forever (a job under `always`) made one file
 * per run for as long as it was listed, thousands a day.
 */
export const RUN_LOGS_KEPT = 20

export interface StopRequest {
  readonly signal?: SignalName | undefined
  readonly graceMs?: number | undefined
  readonly force?: boolean | undefined
  /** Who asked, as the end's notification says it to every session ("stop_task from cursor"). */
  readonly by?: string | undefined
  /** restart_task's stop: the task is `restarting` until its next run, so a wait for its end waits on. */
  readonly restart?: boolean | undefined
  /** Its SIGKILL ended a stop under way, from the caller's side (see `stop`): that end is this stop's too. */
  readonly endedUnderWay?: boolean | undefined
}

/** What send_input handed over: its bytes, and how many of those and earlier ones the program has not read. */
export interface Sent {
  readonly bytes: number
  readonly unread: number
  /** Nobody but its shell holds its stdin now (its program closed it): the unread bytes may never be read. */
  readonly nobodyReads?: true
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
  /** A stop found it ended already (at this time): nothing was done. */
  readonly endedBefore?: string
  /** A start or restart waited behind this stop, and runs it again now. */
  readonly runsAgain?: true
  /** What its SIGKILL could not end yet (stuck in the kernel), in words. */
  readonly stuck?: string
}

export type StartError = InvalidCwd | SpawnFailed | TerminalUnavailable | TaskAlreadyRunning | TooManyTasks
export type RestartError = InvalidCwd | SpawnFailed | TerminalUnavailable | TooManyTasks

export interface TaskActor {
  readonly name: string
  /** The task now. */
  readonly state: () => TaskState
  /** Its processes' use, sampled when a reader asks (a cache, not the task's state). */
  readonly usage: UsageSampler
  /** Calls `listener` (synchronously) on new output and each new state, until the returned function is called. */
  readonly subscribe: (listener: () => void) => () => void
  readonly subscribers: () => number
  /** Runs `spec`: the first start, or one that replaces a finished (or removed) task's spec and output. */
  readonly start: (spec: TaskSpec, asker: string) => Effect.Effect<Started, StartError | TaskRemoved>
  /** Ends the run's whole tree (or a pending restart); answers once it is gone. */
  readonly stop: (request: StopRequest) => Effect.Effect<Ended, TaskRemoved>
  /**
   * Stops it if it runs, then runs it again, keeping its output. `by`: who asked, as the end's
   * notification says it (see StopRequest.by).
   */
  readonly restart: (by?: string) => Effect.Effect<Started, RestartError | TaskRemoved>
  /** Sends a signal to every process of the run; false when it is not running. */
  readonly signal: (signal: SignalName, by?: string) => Effect.Effect<boolean, TaskRemoved>
  /** Writes to the run's input; `eof` closes it afterwards (on a terminal: Ctrl-D). */
  readonly input: (bytes: Buffer, eof: boolean) => Effect.Effect<Sent, StdinClosed | InputNotRead | TaskRemoved>
  /** Changes a terminal task's size, for this run and the next. */
  readonly resize: (size: TerminalSize) => Effect.Effect<void, NotATerminal | TaskRemoved>
  /** Stops it and takes it away, answering with its runs' log files; later commands fail with TaskRemoved, but a start brings it back. */
  readonly remove: (by?: string) => Effect.Effect<ReadonlyArray<string>, TaskRemoved>
  /**
   * The same, only if the task is still `session`'s when the actor takes the command (a start by another
   * session queued before it may have made it theirs); else nothing, and no log files.
   */
  readonly removeIfOwnedBy: (session: string, by: string) => Effect.Effect<ReadonlyArray<string>, TaskRemoved>
  /** Makes it `to`'s (null: kept), if it is still `from`'s when the actor takes the command; true if so. */
  readonly handOver: (from: string, to: Owner) => Effect.Effect<boolean, TaskRemoved>
  /**
   * If it has ended, keeps only its last `lines` (at most `bytes`) of output in memory: its log file has
   * them all, and a long conversation's finished tasks would otherwise each hold a whole ring.
   */
  readonly settle: (lines: number, bytes: number) => Effect.Effect<void, TaskRemoved>
}

/** Who a task belongs to: a session and its client, or nobody (kept: `session` null). */
export interface Owner {
  readonly session: string | null
  readonly client: string | null
}

/** What an actor needs from the server. */
export interface ActorContext {
  readonly config: TaskmuxConfig["Service"]
  readonly notifier: Notifier["Service"]
  readonly watchdog: Watchdog["Service"]
  readonly newBuffer: () => OutputBuffer
  /** Whether one more task may run now besides `name` (--max-tasks), asked as a start or restart is handled. */
  readonly mayRun: (name: string) => boolean
  /** The actor is done: removed with nothing left in its mailbox (or shut down). Takes no more commands. */
  readonly onEnd: (actor: TaskActor) => void
}

/** An answer to a command; a command still queued when its task is removed is answered TaskRemoved. */
type Reply<A, E = never> = Deferred.Deferred<A, E | TaskRemoved>

type Message =
  | {
    readonly _tag: "Start"
    readonly spec: TaskSpec
    /** The session that sent it (the spec's own session is null for a kept task). */
    readonly asker: string
    readonly reply: Reply<Started, StartError>
  }
  | { readonly _tag: "Stop"; readonly request: StopRequest; readonly reply: Reply<Ended> }
  | { readonly _tag: "Restart"; readonly by?: string | undefined; readonly reply: Reply<Started, RestartError> }
  | {
    readonly _tag: "Signal"
    readonly signal: SignalName
    readonly by?: string | undefined
    readonly reply: Reply<boolean>
  }
  | {
    readonly _tag: "Input"
    readonly bytes: Buffer
    readonly eof: boolean
    readonly reply: Reply<Sent, StdinClosed | InputNotRead>
  }
  | { readonly _tag: "Resize"; readonly size: TerminalSize; readonly reply: Reply<void, NotATerminal> }
  | {
    readonly _tag: "Remove"
    readonly ifSession?: string
    readonly by?: string | undefined
    readonly reply: Reply<ReadonlyArray<string>>
  }
  | { readonly _tag: "HandOver"; readonly from: string; readonly to: Owner; readonly reply: Reply<boolean> }
  | { readonly _tag: "Settle"; readonly lines: number; readonly bytes: number; readonly reply: Reply<void> }
  // From the actor's own fibers:
  | { readonly _tag: "Exited"; readonly run: Run; readonly exit: ExitInfo }
  | { readonly _tag: "BackoffOver"; readonly timer: Fiber.Fiber<void> }

/** One run, as only the actor knows it. */
interface Run {
  readonly scope: Scope.Closeable
  readonly span: Tracer.Span
  readonly process: TaskProcess
  /** The run's end: the tree gone, the output drained. */
  readonly exit: Deferred.Deferred<ExitInfo>
  readonly startedAt: number
  /** stop_task, remove_task, restart_task or shutdown asked it to end. */
  stopRequested: boolean
  /** Who asked, when a stop said (see StopRequest.by). */
  stoppedBy?: string | undefined
  /** restart_task stopped it to run it again at once. */
  restartNext?: boolean
  /** Who sent the last signal with signal_task: the one that ended it, if a signal did. */
  signalledBy?: string | undefined
  /** Signals delivered with signal_task, or typed on its terminal. */
  readonly signalsSent: Set<string>
  /** A forcing stop SIGKILLed what a stop under way had left. */
  killed: boolean
}

/** How long a run's end waits for its log file's last writes (milliseconds on a disk that answers). */
const LOG_CLOSE_WAIT_MS = 1_000

/** How long a stop waits for its leader to be reaped once ProcessTree has given up on its SIGKILL. */
const STUCK_LEADER_MS = 10_000

/** Why a process did not end after SIGKILL, and when it will. */
const STUCK = "it is stuck in the kernel (a mount that does not answer?) and goes once the kernel lets it"

/** The control characters a terminal turns into signals for its foreground job. */
const typedSignals = [[0x03, "SIGINT"], [0x1c, "SIGQUIT"], [0x1a, "SIGTSTP"]] as const

/** A new task named `name`, claimed (`running`, no pid yet) until its first start is handled. */
export const make = (
  name: string,
  spec: TaskSpec,
  context: ActorContext
): Effect.Effect<TaskActor, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { config, notifier, watchdog } = context
    const mailbox = yield* Queue.unbounded<Message>()
    const actorScope = yield* Effect.scope
    // Runs and backoff timers live here; the loop closes it as it ends, so a shutdown ends the tree.
    const runs = yield* Scope.make("sequential")
    // Work started outside the actor's fiber (a terminal's answer, a session end's deadline): ended with the actor.
    const runFork = yield* FiberSet.makeRuntime<never>()
    const listeners = new Set<() => void>()

    const changed = () => {
      if (listeners.size === 0) return
      for (const listener of [...listeners]) listener()
    }

    // -------------------------------------------------------------------------------------
    // The state, and the only code that replaces it (all of it runs in the actor's fiber)

    let state = freshState(name, spec, context.newBuffer())
    const update = (patch: Partial<TaskState>) => {
      state = { ...state, ...patch }
      changed()
    }

    let run: Run | undefined
    /** The pending restart's timer, while `restarting`. */
    let timer: Fiber.Fiber<void> | undefined
    /** The run a stop is ending now, while it waits out its grace: a forcing stop's SIGKILL reaches it at once. */
    let stopping: Run | undefined
    /** Starts and restarts posted and not yet taken: a stop answered before one of them says it runs again. */
    let runsQueued = 0
    /** When the session named asked for its tasks to end (its end), and by when they must have. */
    let sessionEnd: { readonly session: string; readonly at: number } | undefined
    let started = false
    // Restart policy bookkeeping: made at the first restart, as most tasks never restart.
    let step: Effect.Success<ReturnType<typeof backoffStep>> | undefined
    let inARow = 0

    /** Output goes to the ring (fast path), the log file (complete record) and the screen; watchers hear of it. */
    const sinkFor = (
      buffer: OutputBuffer,
      screen: TerminalScreen | null,
      log: LogFile,
      cap: { after?: number }
    ): OutputSink => ({
      append: (stream, chunk, time) => {
        try {
          const before = buffer.cursor
          buffer.append(stream, chunk, time)
          if (screen !== null && screen.write(chunk)) answerQueries(screen)
          const more = log.write(chunk)
          // The lines after those the file holds whole: the run's end adds the last of them.
          if (cap.after === undefined && log.isCapped) cap.after = before + newlines(chunk, log.cappedChunkWritten)
          changed()
          return more
        } catch (error) {
          return keepingFailed(error)
        }
      },
      flush: (stream) => {
        try {
          buffer.flush(stream)
          changed()
        } catch (error) {
          keepingFailed(error)
        }
      },
      onDrain: (resume) => log.onDrain(resume)
    })

    /**
     * These run from the event loop (a pipe's or a terminal's read), where a throw would end the server
     * and every task of every session with it: a bug in keeping the output costs that output, said once.
     */
    let keepingFailedSaid = false
    const keepingFailed = (error: unknown) => {
      if (!keepingFailedSaid) {
        keepingFailedSaid = true
        const why = error instanceof Error ? error.stack ?? error.message : String(error)
        process.stderr.write(`taskmux: task ${name}: keeping its output failed (later failures are not said): ${why}\n`)
      }
      return true
    }

    /**
     * Answers what a program asks its terminal (where the cursor is, the device attributes: see
     * cursorQuery.ts) as a terminal would, from the emulator (no terminal is behind the pseudo-terminal;
     * `taskmux attach` keeps the queries from the person's, so one answer comes).
     */
    const answerQueries = (screen: TerminalScreen) => {
      const askedBy = run
      screen.replies().then((replies) => {
        if (replies !== "" && run === askedBy && askedBy !== undefined) {
          runFork(askedBy.process.write(Buffer.from(replies), 1_000))
        }
        // No answer (the emulator failed to load): the program waits for one, as under a terminal that gives none.
      }, () => {})
    }

    /** The directory the current run started in (device and inode), while known. */
    let runDirectory: DirectoryIdentity | undefined

    /**
     * Spawns a run of the current state; on failure the task is `failed`, with why, but for a restart policy's
     * run (`policyRun`) that a limit that passes (files, processes) kept from starting: see restartFailed.
     */
    const startRun = Effect.fnUntraced(function*(policyRun = false) {
      const look = yield* lookAtDirectory(state.cwd)
      // Which directory the run starts in, not only its path: one removed and made again (a worktree's path
      // given to another branch, a fresh clone) is another, which this run does not run in.
      runDirectory = look.problem === undefined ? look.identity : undefined
      const cwdProblem = look.problem
      if (cwdProblem !== undefined) {
        // A directory that went away since the last run says so; anything else is said as it is.
        const error = state.lastExit !== null && cwdProblem === "does not exist"
          ? new SpawnFailed({ command: state.command, code: "ENOCWD", reason: state.cwd })
          : new InvalidCwd({ cwd: state.cwd, reason: cwdProblem })
        fail(error.message)
        return yield* error
      }
      // A run that ended a while ago held fewer lines (settle): this one holds as many as the settings say.
      state.buffer.holdAll()
      const scope = yield* Scope.fork(runs, "sequential")
      // One span per run, from the spawn to the end: it closes with the run's scope.
      const span = yield* Effect.makeSpanScoped("task.run", { attributes: { task: name, run: state.restarts + 1 } })
        .pipe(Scope.provide(scope))
      const spawned = yield* Effect.gen(function*() {
        const cap: { after?: number } = {}
        const log = yield* Effect.acquireRelease(
          Effect.sync(() => LogFile.open(config.logDir, name, config.logMaxBytes)),
          // After the tree has ended (finalizers run in reverse): the ring holds the run's last lines.
          (log) =>
            Effect.suspend(() => {
              if (cap.after !== undefined) log.appendAfterCap(capTail(state.buffer, cap.after, config.logMaxBytes))
              // A disk that stops answering (a hung NFS mount, a file system frozen for a snapshot) holds the
              // file's last writes, not the run's end: the file is closed once they are done.
              return Effect.asVoid(Effect.timeoutOption(log.close, LOG_CLOSE_WAIT_MS))
            })
        )
        // Added before the spawn so that it runs after the process's release has ended the tree
        // (finalizers run in reverse): a server SIGKILLed during a shutdown's grace still has its
        // watchdog end what ignored the SIGTERM.
        const tracked: { pid?: number } = {}
        yield* Effect.addFinalizer(() => tracked.pid === undefined ? Effect.void : watchdog.untrack(tracked.pid))
        // Its failure is this start's: a limit reached (files, processes) is said as for the task's own spawn.
        yield* Effect.mapError(watchdog.armed, ({ code, reason }) =>
          new SpawnFailed(
            SpawnFailed.atLimit(code)
              ? { command: state.command, code, reason }
              : { command: state.command, code: "", reason: `its watchdog (/bin/sh) could not start: ${reason}` }
          ))
        const marker = ProcessTree.newMarker()
        const process = yield* spawn({
          command: state.command,
          args: state.args ?? undefined,
          cwd: state.cwd,
          env: runEnv(state.baseEnv, { ...state, marker }),
          marker,
          releaseGraceMs: config.shutdownGraceMs,
          stopGraceMs: config.killGraceMs,
          terminal: state.terminal ?? undefined
        }, sinkFor(state.buffer, state.screen, log, cap)).pipe(
          Effect.withSpan("task.spawn", { attributes: { task: name, command: state.command } }),
          Effect.withParentSpan(span)
        )
        yield* watchdog.track(process.pid, process.outputs)
        tracked.pid = process.pid
        return { log, marker, process }
      }).pipe(Scope.provide(scope), Effect.exit)
      if (Exit.isFailure(spawned)) {
        yield* Scope.close(scope, Exit.void)
        const error = Cause.findErrorOption(spawned.cause)
        const atLimit = Option.isSome(error) && error.value instanceof SpawnFailed &&
          SpawnFailed.atLimit(error.value.code)
        if (!(policyRun && atLimit)) fail(Option.isSome(error) ? error.value.message : "it could not be spawned")
        return yield* Effect.failCause(spawned.cause)
      }
      const { log, marker, process } = spawned.value
      const current: Run = {
        scope,
        span,
        process,
        exit: Deferred.makeUnsafe(),
        startedAt: performance.now(),
        stopRequested: false,
        signalsSent: new Set(),
        killed: false
      }
      run = current
      const post = (exit: ExitInfo) =>
        Effect.andThen(
          Deferred.succeed(current.exit, exit),
          Queue.offer(mailbox, { _tag: "Exited", run: current, exit })
        )
      yield* Effect.forkIn(
        // Whatever becomes of the look at its end (a defect in the sweep of its tree), the run ends, said in
        // the log: a stop waits for that end, and would wait for ever.
        Effect.onExit(process.exited, (result) =>
          Exit.isSuccess(result)
            ? post(result.value)
            : Cause.hasInterruptsOnly(result.cause)
            ? Effect.void
            : Effect.andThen(
              Effect.logError(`task ${name}: looking at its run's end failed`, result.cause),
              post({ code: null, signal: null })
            )),
        scope
      )
      const logFiles = dropOldRunLogs([...state.logFiles, log.path], RUN_LOGS_KEPT)
      update({ status: "running", pid: process.pid, process, log, marker, logFiles })
      notifier.publish({ _tag: "TaskStarted", name })
      return { name, pid: process.pid, status: state.status } satisfies Started
    })

    const fail = (error: string) => update(failedRun(error, new Date().toISOString()))

    /** Records how `ended` ended, announces it, and runs it again if its policy says so. */
    const endRun = Effect.fnUntraced(function*(ended: Run, exit: ExitInfo, stuck = false) {
      if (run !== ended) return
      run = undefined
      const status = classifyExit(
        { ...exit, stopRequested: ended.stopRequested, signalsSent: ended.signalsSent },
        signalNumber
      )
      ended.span.attribute("status", status)
      // Only what it has: a null would reach a collector as the string "null".
      if (exit.code !== null) ended.span.attribute("exitCode", exit.code)
      if (exit.signal !== null) ended.span.attribute("signal", exit.signal)
      // A leader stuck in the kernel keeps what the run holds (its pipes, its tracking) until it goes.
      if (stuck) {
        yield* Effect.forkIn(Effect.andThen(Deferred.await(ended.exit), Scope.close(ended.scope, Exit.void)), runs)
      } else yield* Scope.close(ended.scope, Exit.void)
      // Monotonic: a run of 2 s is not healthy because the wall clock stepped an hour on meanwhile.
      const uptimeMs = performance.now() - ended.startedAt
      const next = decide(state.policy, { status, stopRequested: ended.stopRequested, uptimeMs }, inARow)
      const end = {
        status,
        exitCode: exit.code,
        signal: exit.signal,
        leftRunning: exit.leftRunning ?? [],
        // Stopped with no stop asked for: by a signal taskmux sent, whoever sent it.
        stoppedBy: ended.stoppedBy ?? (status === "stopped" ? ended.signalledBy : undefined)
      }
      // restart_task runs it again as soon as this returns: not an end, whatever its policy says.
      if (ended.restartNext === true) {
        return finish(end, uptimeMs, undefined, 0)
      }
      if (next._tag !== "Restart") {
        // Decided before the end is shown: a wait for the end never sees a run that will restart as the end.
        finish(end, uptimeMs, next._tag === "GiveUp" ? next.reason : undefined)
        if (next._tag === "GiveUp") gaveUp(next.reason)
        return
      }
      if (next.resetBackoff || step === undefined) step = yield* backoffStep(state.policy)
      inARow = next.inARow
      const [, delay] = yield* step(Date.now(), undefined).pipe(Effect.orDie)
      finish(end, uptimeMs, undefined, Duration.toMillis(delay))
      yield* backoffThen(delay)
    })

    /** The next run, after `delay`. */
    const backoffThen = Effect.fnUntraced(function*(delay: Duration.Duration) {
      const sleeping: Fiber.Fiber<void> = yield* Effect.forkIn(
        Effect.sleep(delay).pipe(
          Effect.withSpan("task.backoff", { attributes: { task: name } }),
          Effect.andThen(Effect.suspend(() => Queue.offer(mailbox, { _tag: "BackoffOver", timer: sleeping }))),
          Effect.asVoid
        ),
        runs
      )
      timer = sleeping
    })

    /**
     * A restart that could not start: a limit of the system's (files, processes) passes, so it counts as a run
     * that crashed at once and is tried again as the policy says; anything else ends the policy. Either way
     * the sessions hear it: they were told when it would run again.
     */
    const restartFailed = Effect.fnUntraced(function*(error: { readonly message: string }) {
      let reason = `its restart could not start: ${error.message}`
      if (error instanceof SpawnFailed && SpawnFailed.atLimit(error.code)) {
        const next = decide(state.policy, { status: "crashed", stopRequested: false, uptimeMs: 0 }, inARow)
        if (next._tag === "Restart" && step !== undefined) {
          inARow = next.inARow
          const [, delay] = yield* step(Date.now(), undefined).pipe(Effect.orDie)
          update({
            status: "restarting",
            error: `${error.message} Tried again at nextRestartAt.`,
            restartDueMs: performance.now() + Duration.toMillis(delay)
          })
          return yield* backoffThen(delay)
        }
        if (next._tag === "GiveUp") reason = `${next.reason}; the last could not start: ${error.message}`
        fail(reason)
      }
      gaveUp(reason)
    })

    /** The restart policy gave up: every session hears why (but its owner, if it asked for quiet). */
    const gaveUp = (reason: string) =>
      notifier.publish({ _tag: "TaskGaveUp", name, reason, quiet: !state.notifyOnExit, session: state.session })

    /**
     * The state after a run's end (a run of `runMs`, on the monotonic clock): `restarting` for `restartInMs`,
     * or ended (for good, when `gaveUp` says why).
     */
    const finish = (end: RunEnd, runMs: number, gaveUp?: string, restartInMs?: number) => {
      const explained = explainRun(state)
      const endedAt = new Date().toISOString()
      update(afterRun(end, {
        endedAt,
        nowMs: performance.now(),
        runMs,
        exitHeadline: headline(explained),
        restartInMs,
        gaveUp
      }))
      const { leftRunning = [], stoppedBy } = end
      notifier.publish({
        _tag: "TaskExit",
        name,
        status: end.status,
        exitCode: end.exitCode,
        signal: end.signal,
        ...(leftRunning.length > 0 && { leftRunning }),
        ...(stoppedBy !== undefined && { stoppedBy }),
        errorLines: explained.errorLines,
        lastLines: explained.lastLines,
        ...(restartInMs !== undefined && { restartAt: new Date(Date.now() + restartInMs).toISOString() }),
        quiet: !state.notifyOnExit,
        session: state.session
      })
    }

    /** Ends the run (or the pending restart) and records it: shared by stop, restart and remove. */
    const stopNow = Effect.fnUntraced(function*(request: StopRequest) {
      const current = run
      if (current !== undefined) {
        current.stopRequested = true
        current.stoppedBy ??= request.by
        current.restartNext = request.restart === true
        stopping = current
        const signal = request.force === true ? "SIGKILL" : request.signal ?? "SIGTERM"
        // Its session has ended: no stop, queued before that end, waits past the end's own grace.
        const endBy = sessionEnd?.session === state.session ? sessionEnd.at - performance.now() : Infinity
        const graceMs = Math.max(0, Math.min(request.graceMs ?? config.killGraceMs, endBy))
        // `stopping` stays set until the leader is reaped: a SIGKILL or a forced stop sent meanwhile reaches it
        // at once rather than queueing behind this stop.
        const { exited, forced } = yield* Effect.gen(function*() {
          const forced = yield* current.process.terminate({ signal, graceMs })
            .pipe(Effect.withSpan("task.kill", { attributes: { task: name } }))
          // terminate sent SIGKILL and waited for it: a leader not reaped by now is stuck in the kernel.
          const exited = yield* Deferred.await(current.exit).pipe(Effect.timeoutOption(STUCK_LEADER_MS))
          return { exited, forced }
        }).pipe(Effect.ensuring(Effect.sync(() => stopping = undefined)))
        if (Option.isNone(exited)) {
          // Uninterruptible (a mount that does not answer, a frozen cgroup): its SIGKILL is pending, and it goes
          // once the kernel lets it. The stop is done as far as it can be; the run's scope closes then.
          yield* endRun(current, { code: null, signal: "SIGKILL" }, true)
          const stuck = `its main process (pid ${current.process.pid}) did not end after SIGKILL: ${STUCK}`
          update({ error: stuck })
          return { ...ended(state), stuck }
        }
        const exit = exited.value
        // A shell line's shell may die of the stop's signal at once (one not trapped, or a SIGTERM that finds
        // it running a command of its own); when its program outlived the grace, the SIGKILL that ended it
        // is how the task ended.
        const killed = forced || current.killed
        const shellLine = state.args === null
        yield* endRun(current, killed && shellLine && exit.signal === signal ? { ...exit, signal: "SIGKILL" } : exit)
        // Its main process went, but not all it started: said, not shown as a clean end.
        const left = current.process.unkillable()
        if (left.length > 0) {
          const which = left.slice(0, 3).map((p) => `${p.pid} (${procfs.commandLine(p.pid) || "?"})`).join(", ")
          const stuck = `${left.length === 1 ? "a process" : `${left.length} processes`} it started did not end ` +
            `after SIGKILL (pid ${which}${left.length > 3 ? ", …" : ""}): ${STUCK}`
          update({ error: stuck })
          return { ...ended(state), stuck }
        }
      } else if (timer !== undefined) {
        // Between runs: no process to signal, just no further run. The last run's end was announced.
        yield* Fiber.interrupt(timer)
        timer = undefined
        if (request.restart !== true) update(stoppedNow(new Date().toISOString()))
      } else if (isFinished(state.status) && state.endedAt !== null && request.endedUnderWay !== true) {
        return { ...ended(state), endedBefore: state.endedAt }
      }
      return ended(state)
    })

    /** Readies the state for another run of the same spec, keeping its output. */
    const nextRun = () => {
      const restarts = state.restarts + 1
      state.buffer.markRun(restarts + 1)
      state.screen?.reset()
      usage.reset()
      update(runReset(restarts))
    }

    /**
     * Runs `effect` for a command and answers with its outcome (an interruption included), the task mended
     * first (see mend): whoever asked then sees it as it is.
     */
    const answer = <A, E>(reply: Reply<A, E>, effect: Effect.Effect<A, E>) =>
      Effect.asVoid(effect.pipe(Effect.ensuring(Effect.sync(mend)), Deferred.into(reply)))

    /**
     * A command whose answer took its defect (a stop that failed once its run was taken off) must not leave
     * the task shown running with no run: the next start would be refused, the next stop would do nothing.
     */
    const mend = () => {
      if (started && run === undefined && timer === undefined && !isFinished(state.status)) {
        fail("taskmux failed (a bug, in its log) while handling it: its run is gone, and how it ended is not known")
      }
    }

    const handle = (message: Message): Effect.Effect<void> => {
      if (message._tag === "Start" || message._tag === "Restart") runsQueued -= 1
      // A removed task takes only a start (which brings it back); other commands hear it is gone.
      if (state.removed && "reply" in message && message._tag !== "Start") {
        return Effect.asVoid(Deferred.fail(message.reply as Reply<unknown>, new TaskRemoved({ name })))
      }
      switch (message._tag) {
        case "Start":
          return answer(
            message.reply,
            Effect.gen(function*() {
              if (started && !isFinished(state.status)) {
                // The same command again: a call that timed out on the client, its run going on; unless the
                // directory at its path is another now (a new checkout there), which it does not run in.
                const sameCommand = message.spec.commandLine === state.commandLine && message.spec.cwd === state.cwd
                const sameRun = sameCommand && (yield* isSameDirectory(runDirectory, message.spec.cwd))
                return yield* new TaskAlreadyRunning({
                  name,
                  pid: state.pid,
                  owner: ownerText(state, message.asker),
                  ...(sameCommand && (sameRun ? { same: true } : { replaced: true })),
                  ...(state.status === "restarting" && state.restartDueMs !== null &&
                    { restartInMs: Math.max(0, Math.round(state.restartDueMs - performance.now())) })
                })
              }
              if (started && !context.mayRun(name)) return yield* new TooManyTasks({ limit: config.maxTasks })
              if (started) {
                // A finished (or removed) task replaced by a new start: a new spec, a new output; subscribers stay.
                const wasRemoved = state.removed
                usage.reset()
                inARow = 0
                step = undefined
                state = freshState(name, message.spec, context.newBuffer())
                changed()
                if (wasRemoved) notifier.publish({ _tag: "TaskAdded", name })
              } else if (message.spec !== spec) {
                // The first start to reach a new task runs its own command (two may race to a new name).
                state = freshState(name, message.spec, state.buffer)
              }
              started = true
              return yield* startRun()
            })
          )
        case "Stop":
          // A start or restart queued behind the stop runs it again next: said, so the caller does not
          // take the task for stopped.
          return answer(
            message.reply,
            Effect.map(
              stopNow(message.request),
              (ended) =>
                runsQueued > 0 && ended.endedBefore === undefined ? { ...ended, runsAgain: true as const } : ended
            )
          )
        case "Restart":
          return answer(
            message.reply,
            Effect.gen(function*() {
              const wasFinished = isFinished(state.status)
              if (wasFinished && !context.mayRun(name)) {
                return yield* new TooManyTasks({ limit: config.maxTasks })
              }
              // Looked at before the stop: a run that could not start again is not stopped for nothing.
              const cwdProblem = yield* checkDirectory(state.cwd)
              if (cwdProblem !== undefined) {
                return yield* new InvalidCwd({
                  cwd: state.cwd,
                  reason: cwdProblem,
                  restart: { name, runsOn: run !== undefined }
                })
              }
              yield* stopNow({ by: message.by, restart: true })
              // Again, with nothing between the count and the run that counts: another task's restart
              // may have taken the last place while this one looked at its directory.
              if (wasFinished && !context.mayRun(name)) {
                return yield* new TooManyTasks({ limit: config.maxTasks })
              }
              // A restart asked for starts the policy over: its count and its backoff.
              inARow = 0
              step = undefined
              nextRun()
              return yield* startRun()
            })
          )
        case "Signal":
          return answer(
            message.reply,
            Effect.sync(() => {
              if (run === undefined || !run.process.signal(message.signal)) {
                return false
              }
              run.signalsSent.add(message.signal)
              run.signalledBy = message.by
              return true
            })
          )
        case "Input":
          return write(message.bytes, message.eof).pipe(
            Effect.matchEffect({
              onFailure: (error) => Deferred.fail(message.reply, error),
              onSuccess: (written) =>
                Effect.forkIn(Deferred.into(written, message.reply), runs, { startImmediately: true })
            }),
            Effect.asVoid
          )
        case "Resize":
          return answer(
            message.reply,
            Effect.suspend(() => {
              if (state.terminal === null) {
                return Effect.fail(new NotATerminal({ name, what: "a terminal size" }))
              }
              state.screen?.resize(message.size)
              run?.process.resize(message.size)
              update(resized(state, message.size))
              return Effect.void
            })
          )
        case "Remove":
          if (message.ifSession !== undefined && state.session !== message.ifSession) {
            return Effect.asVoid(Deferred.succeed(message.reply, []))
          }
          return answer(
            message.reply,
            Effect.andThen(stopNow({ by: message.by }), () =>
              Effect.sync(() => {
                update({ removed: true })
                notifier.publish({ _tag: "TaskRemoved", name })
                return state.logFiles
              }))
          )
        case "HandOver":
          if (state.session !== message.from) {
            return Effect.asVoid(Deferred.succeed(message.reply, false))
          }
          update({ ...message.to, since: new Date().toISOString() })
          return Effect.asVoid(Deferred.succeed(message.reply, true))
        case "Settle":
          // Only a task that ended and waits for nothing (a restart's backoff runs on: it is "restarting").
          if (isFinished(state.status)) {
            state.buffer.holdAtMost(message.lines, message.bytes)
            changed()
          }
          return Effect.asVoid(Deferred.succeed(message.reply, undefined))
        case "Exited":
          return endRun(message.run, message.exit)
        case "BackoffOver":
          if (timer !== message.timer) {
            return Effect.void
          }
          timer = undefined
          nextRun()
          // A run that cannot start leaves the task failed (startRun says why), unless a limit that passes kept
          // it from starting: then it is tried again after the next backoff. Nobody waits for an answer.
          return Effect.ignore(Effect.catch(startRun(true), restartFailed))
      }
    }

    /**
     * Hands `bytes` to the run's stdin now (so writes keep their order) and gives back the wait for the
     * program to take them: that wait, up to a second for a program that does not read, is not the actor's.
     */
    const write = Effect.fnUntraced(function*(bytes: Buffer, eof: boolean) {
      const current = run
      if (current === undefined || state.status !== "running") {
        return yield* new StdinClosed({
          name,
          reason: `it is not running (${describeEnd(state.status, state.exitCode, state.signal)})`
        })
      }
      // On a terminal, Ctrl-C (and Ctrl-\, Ctrl-Z) typed by the caller is a signal the caller sent.
      if (state.terminal !== null) {
        for (const [byte, signal] of typedSignals) {
          if (bytes.includes(byte)) {
            current.signalsSent.add(signal)
          }
        }
      }
      if (bytes.length === 0 && eof) {
        current.process.endInput()
        return Effect.succeed({ bytes: 0, unread: current.process.unread() })
      }
      // What a program does not read is held by the server: as much as one send may bring, no more.
      const unread = current.process.unread()
      if (unread > 0 && unread + bytes.length > config.maxInputBytes) {
        return yield* new InputNotRead({ name, unread })
      }
      // Keys as the terminal would send them in the program's mode now (ncurses' application cursor keys).
      const typed = state.screen?.keys(bytes) ?? bytes
      return Effect.gen(function*() {
        // The end goes with the bytes, now: an input sent after it must not reach the program first.
        const result = yield* current.process.write(typed, 1_000, eof)
        if (result._tag === "Closed") {
          return yield* new StdinClosed({ name, reason: result.reason, stopped: current.stopRequested })
        }
        const unread = result._tag === "Queued" ? current.process.unread() : 0
        return { bytes: bytes.length, unread, ...(current.process.nobodyReads() && { nobodyReads: true as const }) }
      })
    })

    const usage = new UsageSampler()

    /** Commands still queued when the actor ends (removed, or shut down) are answered TaskRemoved. */
    const closeMailbox = Effect.sync(() => {
      // A queue already shut down answers every take with its end: stop there too.
      for (let next = Queue.takeUnsafe(mailbox); next !== undefined && Exit.isSuccess(next);) {
        if ("reply" in next.value) {
          Deferred.doneUnsafe(next.value.reply as Reply<unknown>, Effect.fail(new TaskRemoved({ name })))
        }
        next = Queue.takeUnsafe(mailbox)
      }
      Queue.shutdownUnsafe(mailbox)
    })

    /** Posts a command and waits for its answer; a task that was removed takes none. */
    const ask = <A, E>(message: (reply: Reply<A, E>) => Message): Effect.Effect<A, E | TaskRemoved> =>
      Effect.suspend(() => {
        const reply = Deferred.makeUnsafe<A, E | TaskRemoved>()
        const posted = message(reply)
        if (!Queue.offerUnsafe(mailbox, posted)) {
          return Effect.fail(new TaskRemoved({ name }))
        }
        if (posted._tag === "Start" || posted._tag === "Restart") {
          runsQueued += 1
        }
        return Deferred.await(reply)
      })

    const self: TaskActor = {
      name,
      state: () => state,
      usage,
      subscribe: (listener) => {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
      subscribers: () => listeners.size,
      start: (spec, asker) => ask((reply) => ({ _tag: "Start", spec, asker, reply })),
      stop: (request) =>
        Effect.suspend(() => {
          // A stop that forces does not wait out one under way (its signal ignored, its grace long): its
          // SIGKILL ends the tree now, the stop under way ends with it, and then this one answers.
          const under = stopping
          if ((request.force === true || request.signal === "SIGKILL") && under?.process.signal("SIGKILL")) {
            under.killed = true
            return ask((reply) => ({ _tag: "Stop", request: { ...request, endedUnderWay: true }, reply }))
          }
          return ask((reply) => ({ _tag: "Stop", request, reply }))
        }),
      restart: (by) => ask((reply) => ({ _tag: "Restart", by, reply })),
      signal: (signal, by) =>
        Effect.suspend(() => {
          // A stop under way holds the mailbox for its grace (up to ten minutes): a signal goes to the run
          // it stops now, a SIGKILL ending it at once, rather than waiting to find nothing to signal.
          const under = stopping
          if (under === undefined || !under.process.signal(signal)) {
            return ask((reply) => ({ _tag: "Signal", signal, by, reply }))
          }
          under.signalsSent.add(signal)
          if (signal === "SIGKILL") under.killed = true
          return Effect.succeed(true)
        }),
      input: (bytes, eof) => ask((reply) => ({ _tag: "Input", bytes, eof, reply })),
      resize: (size) => ask((reply) => ({ _tag: "Resize", size, reply })),
      remove: (by) => ask((reply) => ({ _tag: "Remove", by, reply })),
      removeIfOwnedBy: (session, by) =>
        Effect.suspend(() => {
          // Its session's end does not wait out a longer grace that a stop gave (up to ten minutes): a
          // stop still queued takes the end's deadline (see stopNow); past it, one under way gets a SIGKILL.
          if (state.session === session && sessionEnd?.session !== session) {
            sessionEnd = { session, at: performance.now() + config.killGraceMs }
          }
          const under = stopping
          if (under !== undefined) {
            runFork(
              Effect.sleep(config.killGraceMs).pipe(Effect.andThen(Effect.sync(() => {
                if (stopping === under && state.session === session && under.process.signal("SIGKILL")) {
                  under.killed = true
                }
              })))
            )
          }
          return ask((reply) => ({ _tag: "Remove", ifSession: session, by, reply }))
        }),
      handOver: (from, to) => ask((reply) => ({ _tag: "HandOver", from, to, reply })),
      settle: (lines, bytes) => ask((reply) => ({ _tag: "Settle", lines, bytes, reply }))
    }
    /**
     * A message whose handling failed in a way nothing handled (a bug): said in the log, answered to whoever
     * asked, an ended run's tree closed; the actor goes on, and the task with it (else it would vanish).
     */
    const recover = (message: Message, cause: Cause.Cause<unknown>) =>
      Effect.gen(function*() {
        yield* Effect.logError(`task ${name}: handling its ${message._tag} message failed`, cause)
        if ("reply" in message) Deferred.doneUnsafe(message.reply as Reply<unknown>, Effect.die(Cause.squash(cause)))
        if (message._tag === "Exited" && run === undefined) {
          yield* Effect.ignoreCause(Scope.close(message.run.scope, Exit.void))
        }
      })

    /** Ends the actor when it was removed and nothing waits in its mailbox, in one step, so no command slips in. */
    const done = Effect.sync(() => {
      if (!state.removed || Queue.sizeUnsafe(mailbox) > 0) return false
      Queue.shutdownUnsafe(mailbox)
      return true
    })

    /**
     * The actor's end, however it comes (removed, or shut down): the run's tree ends with `runs` first,
     * and only then is the task shown stopped; queued commands are answered; the registry forgets it.
     */
    const end = Effect.andThen(
      Scope.close(runs, Exit.void),
      Effect.sync(() => {
        if (run !== undefined || timer !== undefined) {
          run = undefined
          timer = undefined
          update(stoppedNow(new Date().toISOString()))
        }
      })
    ).pipe(Effect.andThen(closeMailbox), Effect.andThen(Effect.sync(() => context.onEnd(self))))

    // Also when the loop never ran (its scope closed before it started): no caller waits forever.
    yield* Scope.addFinalizer(actorScope, end)
    yield* Effect.gen(function*() {
      do {
        const message = yield* Queue.take(mailbox)
        yield* handle(message).pipe(
          Effect.catchCause((cause) =>
            Cause.hasInterruptsOnly(cause) ? Effect.failCause(cause) : recover(message, cause)
          )
        )
        mend()
      } while (!(yield* done))
    }).pipe(Effect.ensuring(end), Effect.forkIn(actorScope))

    return self
  })

const backoffStep = (policy: RestartPolicy) => Schedule.toStep(backoff(policy))

export const ended = (state: TaskState): Ended => ({
  name: state.name,
  status: state.status,
  exitCode: state.exitCode,
  signal: state.signal
})

/** Whose a running task is, in words, for a start (by `asker`) that collides with it; nothing if the asker's. */
const ownerText = (state: TaskState, asker: string | null) =>
  state.session === null
    ? `kept since ${state.since}${state.client !== null ? `, started by ${state.client}` : ""}`
    : state.session === asker
    ? ""
    : `started by another session${state.client !== null ? ` (${state.client})` : ""} at ${state.since}`
