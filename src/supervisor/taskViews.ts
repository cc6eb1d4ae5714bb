/**
 * Views of a task's state, as the tools and notifications show it: pure reads of the value its actor
 * keeps (and of the ring and /proc, for output and usage). Nothing here changes a task.
 */
import { Struct } from "effect"
import type { LineRecord, TaskInfo, TaskSummary } from "../domain/Task.ts"
import { cleanText } from "../output/cleanText.ts"
import { explain, type Explained } from "../output/explain.ts"
import type { BufferedLine } from "../output/OutputBuffer.ts"
import * as ProcessTree from "../process/ProcessTree.ts"
import * as procfs from "../process/procfs.ts"
import { TERMINAL_TYPE } from "../process/TerminalProcess.ts"
import { noUsage, processesOf, type TaskUsage, unknownUsage, type UsageSampler } from "../process/usage.ts"
import { taskEnv } from "./startPolicy.ts"
import { type TaskState, widthAt } from "./TaskState.ts"
import { ownerAs, type ViewerShape } from "./Viewer.ts"
import { withCharacterSet } from "./withCharacterSet.ts"

/** What the record on disk keeps of a task: its spec (to start it again) and how it is now (to show it). */
const RECORDED = [
  "name",
  "command",
  "args",
  "commandLine",
  "cwd",
  "env",
  "notifyOnExit",
  "policy",
  "terminal",
  "session",
  "client",
  "since",
  "status",
  "pid",
  "exitCode",
  "signal",
  "startedAt",
  "endedAt"
] as const

export type RecordedTask = Pick<TaskState, typeof RECORDED[number]> & { readonly logFile: string | null }

/** What the record keeps of a task as it is now. */
export const recordOf = (state: TaskState): RecordedTask => ({
  ...Struct.pick(state, RECORDED),
  logFile: state.log?.path ?? null
})

/**
 * A task's lines cleaned as its terminal showed them, wrapping at the width each was written at (line
 * `seq`); a task on pipes has no width.
 */
export const cleanFor = (
  state: Pick<TaskState, "earlierWidths" | "terminal">
): (text: string, line: { readonly seq: number }) => string =>
  state.terminal === null ? (text) => cleanText(text) : (text, line) => cleanText(text, widthAt(state, line.seq))

/** The last lines of output, cleaned: what a task was doing. */
export const lastLines = (state: TaskState, n = 5) =>
  state.buffer.read({ tail: n, transform: cleanFor(state) }).lines.map((l) => l.text)

/**
 * The environment the task's latest run got: the policy's, the task's own, the run's marker, a UTF-8
 * character set where none is named, and on a terminal the terminal's TERM (what get_task shows is what
 * the program sees).
 */
export const runEnv = (
  base: Readonly<Record<string, string>>,
  state: Pick<TaskState, "env" | "marker" | "terminal">
): Record<string, string> =>
  withCharacterSet({
    ...taskEnv(base, state.env),
    ...(state.marker !== null && { [ProcessTree.MARKER_VARIABLE]: state.marker }),
    ...(state.terminal !== null && { TERM: TERMINAL_TYPE })
  })

/** How many of the newest lines a summary looks through for the cause. */
const EXPLAIN_LINES = 1_000

/** The last lines of the latest run and, before them, those that look like the cause of its end. */
export const explainRun = (state: TaskState): Explained => {
  // Only the latest run's lines: a restart loop over a full ring read (and threw away) 1,000 lines per end.
  const { lines } = state.buffer.read({
    since: state.buffer.runStart,
    tail: EXPLAIN_LINES,
    maxBytes: 512 * 1024,
    transform: cleanFor(state)
  })
  return explain(latestRun(lines).map((l) => toLineRecord(state, l)))
}

/** The lines of the latest run among `lines`: from the last that begins a run (a restart's first line). */
export const latestRun = <L extends { readonly run?: number | undefined }>(lines: ReadonlyArray<L>) => {
  let from = lines.length
  while (from > 0 && lines[from - 1]!.run === undefined) from--
  return from > 0 ? lines.slice(from - 1) : lines
}

/** What its processes use now (sampled at most once a second); nothing once it has ended. */
const usageOf = (state: TaskState, sampler: UsageSampler): TaskUsage => {
  const process = state.process
  if (!procfs.available) return unknownUsage
  if (process === undefined) return noUsage
  return sampler.sample(process.members, state.runStartedMs)
}

/** Its processes' CPU now, in % of one CPU (sampled as `summary` samples); null where /proc is not. */
export const cpuOf = (state: TaskState, sampler: UsageSampler): number | null => usageOf(state, sampler).cpuPercent

export const summary = (
  state: TaskState,
  sampler: UsageSampler,
  viewer: ViewerShape,
  usage = usageOf(state, sampler)
): TaskSummary => {
  const owner = ownerAs(viewer, state.session)
  return {
    name: state.name,
    pid: state.pid,
    status: state.status,
    exitCode: state.exitCode,
    signal: state.signal,
    command: state.commandLine,
    startedAt: state.startedAt,
    endedAt: state.endedAt,
    ports: usage.ports,
    memoryBytes: usage.memoryBytes,
    // Its main process stopped by a signal: it answers nothing until SIGCONT.
    ...(state.pid !== null && usage.paused?.includes(state.pid) === true && { paused: true as const }),
    owner,
    since: state.since,
    ...(owner === "other" && state.client !== null && { client: state.client })
  }
}

/** What get_task shows, but the environment (which the registry knows how it was made). */
export const info = (
  state: TaskState,
  sampler: UsageSampler,
  watchers: number,
  viewer: ViewerShape
): Omit<TaskInfo, "env" | "envValues"> => {
  const stats = state.buffer.stats()
  const log = state.log?.stats()
  const usage = usageOf(state, sampler)
  return {
    ...summary(state, sampler, viewer, usage),
    client: state.client,
    processes: processesOf(usage),
    cpuPercent: usage.cpuPercent,
    args: state.args,
    cwd: state.cwd,
    terminal: state.terminal,
    restarts: state.restarts,
    error: state.error,
    stdinOpen: state.process?.isStdinOpen() ?? false,
    lines: stats.lines,
    droppedLines: stats.droppedLines,
    totalLines: stats.totalLines,
    nextCursor: state.buffer.cursor,
    logFile: log?.path ?? null,
    logBytes: log?.bytes ?? 0,
    logCapped: log?.capped ?? false,
    logError: log?.error ?? null,
    watchers,
    restartPolicy: state.policy.policy,
    lastExit: state.lastExit,
    nextRestartAt: state.restartDueMs === null
      ? null
      : new Date(Date.now() + Math.max(0, state.restartDueMs - performance.now())).toISOString()
  }
}

/** A line as answers know it; a terminal task's lines are of the one stream "terminal". */
export const toLineRecord = (state: Pick<TaskState, "terminal">, line: BufferedLine): LineRecord => {
  const out: LineRecord = {
    seq: line.seq,
    stream: state.terminal !== null ? "terminal" : line.stream,
    text: line.text,
    time: line.time
  }
  const whole = line.partial ? { ...out, partial: true } : line.cut ? { ...out, cut: true } : out
  return line.run !== undefined ? { ...whole, run: line.run } : whole
}
