/**
 * What the registry remembers of names it no longer holds, for whoever asks for one by name later: a task
 * gone with the session that owned it (what became of it, and its spec, so that restart_task runs it
 * again), and a task remove_task took (who, and when). A name a new task takes is forgotten in both. Plain
 * data, bounded: past GONE_KEPT of either, the oldest goes first.
 */
import { describeEnd } from "../domain/Task.ts"
import type { TaskState } from "./TaskState.ts"
import { type RecordedTask, recordOf } from "./taskViews.ts"

/**
 * A task forgotten with the session that owned it: not listed (a supervisor that served a thousand
 * conversations lists only what is live or kept), but asked for by name, what became of it and where
 * its output is (the next conversation reading the test run the last one made).
 */
export interface GoneTask extends RecordedTask {
  /** How it ended, and when its session took it. */
  readonly reason: string
}

/**
 * A task remove_task took: another session, the page or the person may remove what a conversation runs,
 * and that conversation, asking for it by name, is told so rather than that there never was such a task.
 */
export interface RemovedTask {
  readonly name: string
  /** "remove_task from taskmux ui". */
  readonly by: string
  readonly at: string
  readonly commandLine: string
  /** Its last run's, unless deleted with it. */
  readonly logFile: string | null
}

/** What a gone task's reason says of a log file the disk cut short: its last lines are not the run's. */
const LOG_STOPS_SHORT = "which stops short"
export const logStopsShort = (task: GoneTask) => task.reason.includes(LOG_STOPS_SHORT)

/** The most of each that are remembered; the oldest is forgotten first. */
export const GONE_KEPT = 64

/**
 * A task as its session's end left it: `ran`, whether that end stopped it (else it had ended, and how);
 * `by`, whose end it was; `logError`, why its log file stops short, if it does.
 */
export const goneTask = (state: TaskState, ran: boolean, by: string, logError: string | null): GoneTask => {
  const end = ran
    ? `it was stopped when ${by}, at ${state.endedAt}`
    : `it ${describeEnd(state.status, state.exitCode, state.signal)} at ${state.endedAt}, and then ${by}`
  const record = recordOf(state)
  // A log the disk refused has its first lines only: not the run's last, which the ring held and goes with it.
  const short = logError === null ? "" : ` (${LOG_STOPS_SHORT}, the disk refused the rest: ${logError})`
  // With its spec: restart_task (or start_task { name }) runs it again, as one a dead supervisor lost.
  return { ...record, reason: `${end}${record.logFile === null ? "" : `. Its output: ${record.logFile}${short}`}` }
}

/** Sets `key` newest, the oldest forgotten past `max`. */
const keepLast = <A>(map: Map<string, A>, key: string, value: A, max: number) => {
  map.delete(key)
  map.set(key, value)
  for (const oldest of map.keys()) {
    if (map.size <= max) break
    map.delete(oldest)
  }
}

export interface GoneTasks {
  /** A task its session took with it. */
  readonly remember: (task: GoneTask) => void
  /** Tasks a past supervisor had seen go with their sessions, but for names `taken` by a task now. */
  readonly recall: (tasks: ReadonlyArray<GoneTask>, taken: (name: string) => boolean) => void
  readonly gone: (name: string) => GoneTask | undefined
  /** Forgets a task gone with its session (remove_task of it), returning what was remembered. */
  readonly forgetGone: (name: string) => GoneTask | undefined
  /** Every task gone with its session that is remembered, the oldest first (for the record on disk). */
  readonly goneTasks: () => ReadonlyArray<GoneTask>
  /** A task remove_task took. */
  readonly removedNow: (task: RemovedTask) => void
  readonly removed: (name: string) => RemovedTask | undefined
  /** A new task took the name: neither memory is of it now. */
  readonly taken: (name: string) => void
}

export const makeGoneTasks = (max = GONE_KEPT): GoneTasks => {
  const gone = new Map<string, GoneTask>()
  const removed = new Map<string, RemovedTask>()
  const remember = (task: GoneTask) => keepLast(gone, task.name, task, max)
  return {
    remember,
    recall: (tasks, taken) => {
      for (const task of tasks) if (!taken(task.name)) remember(task)
    },
    gone: (name) => gone.get(name),
    forgetGone: (name) => {
      const task = gone.get(name)
      gone.delete(name)
      return task
    },
    goneTasks: () => [...gone.values()],
    removedNow: (task) => keepLast(removed, task.name, task, max),
    removed: (name) => removed.get(name),
    taken: (name) => {
      gone.delete(name)
      removed.delete(name)
    }
  }
}
