/**
 * What the CLI reads of the tools' answers (their structuredContent). Loose on purpose: a field the
 * supervisor adds later is shown when present and never required.
 */
import { describeEnd, type TaskStatus } from "../domain/Task.ts"

export interface ListedTask {
  readonly name: string
  readonly pid: number | null
  readonly status: string
  readonly exitCode: number | null
  readonly signal: string | null
  readonly command: string
  readonly startedAt: string | null
  readonly endedAt: string | null
  readonly ports: ReadonlyArray<number> | null
  readonly memoryBytes: number | null
  /** Its main process is stopped (SIGSTOP, Ctrl-Z) until SIGCONT. */
  readonly paused?: boolean
  readonly owner?: string
  /** Another session's client, by name. */
  readonly client?: string
  readonly since?: string
  /** Why a lost task is lost (its supervisor ended while it ran, its log file), or a failed one failed. */
  readonly reason?: string
  readonly logFile?: string | null
}

export interface ListAnswer {
  readonly tasks: ReadonlyArray<ListedTask>
  readonly projectError?: string
}

/** A line as read_output gives it: `seq` only where it does not follow, `stream` only when not stdout. */
export interface OutputLine {
  readonly text: string
  readonly seq?: number
  readonly stream?: "stderr" | "terminal"
  readonly partial?: boolean
  /** Cut at the line limit: the next line goes on with it. */
  readonly cut?: boolean
  readonly run?: number
}

export interface ReadAnswer {
  readonly lines: ReadonlyArray<OutputLine>
  readonly screen?: ReadonlyArray<string>
  readonly nextCursor: number
  readonly dropped: number
  readonly truncated: boolean
}

export interface WaitAnswer {
  readonly name: string
  readonly status: string
  readonly exitCode: number | null
  readonly signal: string | null
  readonly timedOut: boolean
  readonly nextCursor: number
  /** Who stopped it, when someone did ("Stopped by stop_task from cursor."), among other notes. */
  readonly hint?: string
}

export interface TaskAnswer {
  readonly name: string
  readonly status: string
  readonly exitCode: number | null
  readonly signal: string | null
  readonly terminal: { readonly cols: number; readonly rows: number } | null
  readonly nextCursor: number
  readonly logFile?: string | null
  /** Why it failed to start, or why its restart policy gave up. */
  readonly error?: string | null
}

/** A task that may run again (its restart policy's next run) or runs now. */
export const isLive = (status: string) => status === "running" || status === "restarting"

/** It ended badly: a script that followed it (`attach`) should hear so in the exit code. */
export const endedBadly = (status: string) => status === "crashed" || status === "failed"

/**
 * A tool's error as the CLI tells them apart: by the tag the answer carries (`_meta`), and by its words
 * where a supervisor of an earlier build sends none.
 */
export interface ToolFailure {
  readonly message: string
  readonly tag?: string | undefined
  readonly logFile?: string | undefined
}

/** The log file the tools' answer about such a task names ("… Its output: /…/api-1.log. …"). */
export const loggedIn = (failure: ToolFailure) =>
  failure.logFile ?? /Its output: (.+?\.log)\.(?:\s|$)/.exec(failure.message)?.[1]

/** What the tools answer about a task forgotten with the session that owned it. */
export const wentWithSession = (failure: ToolFailure) =>
  failure.tag === undefined
    ? /^Task ".*" ran under a session that has ended/.test(failure.message)
    : failure.tag === "TaskWentWithSession"

/** How a follow or an attach says its task went: who removed it and when, where the tools said so. */
export const goneText = (name: string, failure: ToolFailure) => {
  const removed = /was removed by (.+?) at (\S+?Z)\b/.exec(failure.message)
  if (removed !== null) return `${name} was removed by ${removed[1]} at ${removed[2]}`
  if (wentWithSession(failure)) return `${name} went with the session it belonged to`
  return `${name} was removed: by remove_task, or with the session it belonged to`
}

/** What the tools answer about a project task that has not run (yet, or again since its removal). */
export const notRunYet = (failure: ToolFailure) =>
  failure.tag === undefined
    ? /is a project task that has not run yet/.test(failure.message)
    : failure.tag === "ProjectTaskNotRun"

/**
 * What the tools answer about a task removed meanwhile (remove_task, or the end of the session it was of):
 * a project task's removal makes it one not run yet again.
 */
export const isGone = (failure: ToolFailure) =>
  (failure.tag === undefined
    ? /^No task named |was removed \(remove_task\) before this call reached it|^Task ".*" was removed by /.test(
      failure.message
    )
    : failure.tag === "TaskNotFound" || failure.tag === "TaskRemoved" || failure.tag === "TaskWasRemoved") ||
  notRunYet(failure) || wentWithSession(failure)

/**
 * Why `taskmux start`/`restart`/`stop` exits 1 after printing its answer, or undefined: a run that ended
 * badly at once, one not ready in time (`taskmux start db && ./migrate` must not go on), or one whose
 * wait for readiness saw it end, or go to another port, its own being another program's.
 */
export const runFailure = (
  answer: { readonly status?: string; readonly timedOut?: boolean; readonly matched?: boolean },
  name: string
): string | undefined => {
  const { matched, status, timedOut } = answer
  const live = status !== undefined && isLive(status)
  if (status === "crashed" || status === "failed") {
    return `"${name}" ${status === "failed" ? "could not start" : "crashed"}`
  }
  if (timedOut === true && live) {
    return `"${name}" was not ready in time; it keeps running (taskmux stop ${name} stops it)`
  }
  if (matched === false && timedOut !== true) {
    return live
      ? `"${name}" will not be ready: it listens on another port; it keeps running (taskmux stop ${name} stops it)`
      : `"${name}" ended before it was ready`
  }
  return undefined
}

/**
 * Why `taskmux wait --exit` exits 1 after printing its answer, or undefined: it did not end in time, or
 * ended otherwise than exiting 0 (`taskmux wait build --exit && ./deploy` must not go on).
 */
export const endFailure = (
  answer: {
    readonly status?: TaskStatus
    readonly exitCode?: number | null
    readonly signal?: string | null
    readonly timedOut?: boolean
  },
  name: string
): string | undefined => {
  const { exitCode, signal, status, timedOut } = answer
  if (timedOut === true) return `"${name}" did not end in time; it keeps running`
  if (status === "exited") return undefined
  return `"${name}" ended: ${
    status === undefined ? "how, unknown" : describeEnd(status, exitCode ?? null, signal ?? null)
  }`
}
