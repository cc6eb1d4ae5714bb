/**
 * A task's state as readers see it, and the values it starts from: plain data that only the task's
 * actor (TaskActor.ts) replaces, kept apart so that views, hints and waits read it without importing
 * the actor, and its transitions can be tested without processes.
 */
import type { TaskStatus } from "../domain/Task.ts"
import type { TerminalSize } from "../domain/TerminalSize.ts"
import type { LogFile } from "../output/LogFile.ts"
import type { OutputBuffer } from "../output/OutputBuffer.ts"
import { TerminalScreen } from "../output/TerminalScreen.ts"
import type { TaskProcess } from "../process/TaskProcess.ts"
import type { RestartPolicy } from "./RestartPolicy.ts"

/** What a task runs: fixed for the life of its name, unless a start replaces a finished task. */
export interface TaskSpec {
  readonly command: string
  readonly args: ReadonlyArray<string> | null
  /** `command` and `args` as one shell-quoted line, as list_tasks shows it. */
  readonly commandLine: string
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  /** What it inherits before `env`: the environment of whoever started it (see baseEnv). */
  readonly baseEnv: Readonly<Record<string, string>>
  readonly notifyOnExit: boolean
  readonly policy: RestartPolicy
  /** Its terminal's size at the start, or null for a task on pipes. */
  readonly terminal: TerminalSize | null
  /** The session that started it, stopped and forgotten when that session ends; null: kept. */
  readonly session: string | null
  /** That session's client, by name. */
  readonly client: string | null
  /** ISO time of the start that made it this session's (or kept). */
  readonly since: string
}

export interface LastExit {
  readonly status: TaskStatus
  readonly exitCode: number | null
  readonly signal: string | null
  readonly at: string
}

/** A task as readers see it: a value that only its actor replaces. */
export interface TaskState extends Omit<TaskSpec, "terminal"> {
  readonly name: string
  readonly status: TaskStatus
  /** Who stopped its last run, when one asked ("stop_task from cursor"); null while it runs, or it ended by itself. */
  readonly stoppedBy: string | null
  readonly pid: number | null
  readonly exitCode: number | null
  readonly signal: string | null
  /** Why it failed to start, or why its restart policy gave up. */
  readonly error: string | null
  readonly restarts: number
  /** ISO times, kept as the text every answer shows. */
  readonly startedAt: string
  readonly endedAt: string | null
  /**
   * When the current run started, on the monotonic clock (performance.now()), and how long the last run
   * lasted on it: durations that a step of the wall clock (NTP, a person's `date -s`) or a laptop's sleep
   * does not turn negative or into hours. startedAt and endedAt stay the wall times answers show.
   */
  readonly runStartedMs: number
  readonly lastRunMs: number | null
  readonly lastExit: LastExit | null
  /** How the last run ended, in its most telling line of output (see `headline`), for the page's table. */
  readonly exitHeadline: string | null
  /** What the last run's main process left running when it ended, which ended with it (command lines). */
  readonly leftRunning: ReadonlyArray<string>
  /** When the next run starts, while restarting, on the monotonic clock (answers show it as a wall time). */
  readonly restartDueMs: number | null
  /** Its terminal's size now, or null for a task on pipes. */
  readonly terminal: TerminalSize | null
  /** The widths its lines were written at before each resize, oldest first (see resized). */
  readonly earlierWidths: ReadonlyArray<EarlierWidth>
  /** The ring its output goes to (written by the run's stream callbacks, read by anyone). */
  readonly buffer: OutputBuffer
  readonly screen: TerminalScreen | null
  /** The current run's process, for readers' looks at its members and stdin. */
  readonly process: TaskProcess | undefined
  readonly log: LogFile | undefined
  /** Log files of every run, for `remove_task { deleteLog }`. */
  readonly logFiles: ReadonlyArray<string>
  /** The latest run's marker (see ProcessTree), in its environment. */
  readonly marker: string | null
  /** remove_task took it away: no longer listed; only a new start brings the name back. */
  readonly removed: boolean
}

/** A task before its first run (also a test's starting point for the pure views and hints). */
export const freshState = (name: string, spec: TaskSpec, buffer: OutputBuffer): TaskState => ({
  name,
  command: spec.command,
  args: spec.args,
  commandLine: spec.commandLine,
  cwd: spec.cwd,
  env: spec.env,
  baseEnv: spec.baseEnv,
  notifyOnExit: spec.notifyOnExit,
  policy: spec.policy,
  terminal: spec.terminal,
  session: spec.session,
  client: spec.client,
  since: spec.since,
  earlierWidths: [],
  screen: spec.terminal === null ? null : new TerminalScreen(spec.terminal),
  buffer,
  // Claimed: a second start of the name is refused while the first is spawning.
  ...runReset(0),
  lastExit: null,
  stoppedBy: null,
  exitHeadline: null,
  leftRunning: [],
  process: undefined,
  log: undefined,
  logFiles: [],
  marker: null,
  removed: false
})

/** The fields a new run of the same task starts with. */
export const runReset = (restarts: number): Pick<
  TaskState,
  | "status"
  | "restarts"
  | "pid"
  | "exitCode"
  | "signal"
  | "error"
  | "startedAt"
  | "runStartedMs"
  | "lastRunMs"
  | "endedAt"
  | "restartDueMs"
> => ({
  status: "running",
  restarts,
  pid: null,
  exitCode: null,
  signal: null,
  error: null,
  startedAt: new Date().toISOString(),
  runStartedMs: performance.now(),
  lastRunMs: null,
  endedAt: null,
  restartDueMs: null
})

/** How a run ended, as its end is recorded and announced. */
export interface RunEnd {
  readonly status: TaskStatus
  readonly exitCode: number | null
  readonly signal: string | null
  readonly leftRunning?: ReadonlyArray<string> | undefined
  readonly stoppedBy?: string | undefined
}

/**
 * The state after a run's end, at `endedAt` (wall) and `nowMs` (monotonic): `restarting` for `restartInMs`,
 * or ended (for good, `gaveUp` saying why). `runMs`: how long the run lasted, on the monotonic clock.
 */
export const afterRun = (
  { leftRunning = [], stoppedBy, ...end }: RunEnd,
  at: {
    readonly endedAt: string
    readonly nowMs: number
    readonly runMs: number
    readonly exitHeadline: string | null
    readonly restartInMs?: number | undefined
    readonly gaveUp?: string | undefined
  }
): Partial<TaskState> => ({
  status: at.restartInMs === undefined ? end.status : "restarting",
  exitCode: end.exitCode,
  signal: end.signal,
  endedAt: at.endedAt,
  lastRunMs: at.runMs,
  process: undefined,
  restartDueMs: at.restartInMs === undefined ? null : at.nowMs + at.restartInMs,
  lastExit: { ...end, at: at.endedAt },
  exitHeadline: at.exitHeadline,
  leftRunning,
  stoppedBy: stoppedBy ?? null,
  ...(at.gaveUp !== undefined && { error: at.gaveUp })
})

/** A run that could not start (or a restart policy that gave up on one that could not): failed, saying why. */
export const failedRun = (error: string, endedAt: string): Partial<TaskState> => ({
  status: "failed",
  error,
  endedAt,
  pid: null,
  process: undefined
})

/** Stopped between runs (a restart's backoff), or with its actor's end: no run, no next one. */
export const stoppedNow = (endedAt: string): Partial<TaskState> => ({
  status: "stopped",
  endedAt,
  process: undefined,
  restartDueMs: null
})

/** The lines before `before` (by seq) were written at `cols`: a resize since changes how they read. */
export interface EarlierWidth {
  readonly before: number
  readonly cols: number
}

/** Width changes remembered: past these, the oldest lines are cleaned at the next width kept. */
const EARLIER_WIDTHS = 32

/**
 * Resized to `size`: each line printed so far stays cleaned at the width it was printed at (a shell's
 * edited command line redrawn at 60 columns would read otherwise at 100); the line still open, and every
 * line after, at the new one. Lines the ring no longer holds need no width.
 */
export const resized = (state: Pick<TaskState, "buffer" | "earlierWidths" | "terminal">, size: TerminalSize) => {
  const before = state.buffer.cursor + 1
  const firstHeld = before - state.buffer.stats().lines
  const held = state.earlierWidths.filter((width) => width.before > firstHeld)
  // Already remembered for the lines before here (resized twice with no line between): that one stands.
  const widths = state.terminal === null || held.at(-1)?.before === before
    ? held
    : [...held, { before, cols: state.terminal.cols }]
  return { terminal: size, earlierWidths: widths.slice(-EARLIER_WIDTHS) }
}

/** The width line `seq` was written at: the terminal's now, unless a resize came after it. */
export const widthAt = (state: Pick<TaskState, "earlierWidths" | "terminal">, seq: number): number | undefined =>
  state.earlierWidths.find((width) => seq < width.before)?.cols ?? state.terminal?.cols
