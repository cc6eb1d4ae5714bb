/**
 * The record on disk of what a project's supervisor runs (see LostTasks), read: what a dead one was
 * running when it died, what was lost before, and the kept tasks that had ended by themselves when
 * one exited in order (a kept build's result outlives the supervisor that ran it). Plain Node, for
 * the CLI too, which reads it when no supervisor runs.
 */
import * as fs from "node:fs"
import { describeEnd, isFinished } from "../domain/Task.ts"
import type { RecordedTask } from "../supervisor/TaskRegistry.ts"

/** A task a past supervisor left: lost (running when it died), or ended (its status says how). */
export interface LostTask extends RecordedTask {
  /** Why it is lost, or how it ended; and where its output is. */
  readonly reason: string
}

/** The ends worth keeping past the supervisor: not a stop someone asked for. */
export const ENDED_BY_ITSELF: ReadonlySet<string> = new Set(["exited", "crashed", "failed"])

/** It ended by itself, before its supervisor exited in order; not lost. */
export const hasEnded = (task: LostTask) => isFinished(task.status)

/** A kept task that ended by itself, as a record keeps it once its supervisor has exited. */
export const endedKept = (task: RecordedTask): LostTask => ({
  ...task,
  reason: `it ${describeEnd(task.status, task.exitCode, task.signal)} at ${task.endedAt}, before its supervisor ` +
    `ended${task.logFile === null ? "" : `. Its output: ${task.logFile}`}`
})

export interface RecordFile {
  readonly supervisorPid: number
  readonly tasks: ReadonlyArray<RecordedTask>
  readonly lost: ReadonlyArray<LostTask>
}

/**
 * Lost tasks remembered from crashes before the last, the newest (the last one's are all kept): each
 * crash of a supervisor would add its tasks for good.
 */
export const LOST_KEPT = 64

/** What a record says was running when its supervisor died, and what was lost before; none without one. */
export const readLost = (file: string): ReadonlyArray<LostTask> => {
  let record: RecordFile
  try {
    record = JSON.parse(fs.readFileSync(file, "utf8")) as RecordFile
  } catch {
    return []
  }
  const running = (record.tasks ?? []).filter((task) => !isFinished(task.status))
  // A kept task that had ended by itself before its supervisor died is remembered as an orderly exit
  // remembers it (a kept build's result); the ones it already remembered come first.
  const remembered = new Set((record.lost ?? []).map((task) => task.name))
  const endedKeptToo = (record.tasks ?? []).filter((task) =>
    task.session === null && ENDED_BY_ITSELF.has(task.status) && !remembered.has(task.name)
  )
  // This record's own are kept whole; those of crashes before, the newest that fit.
  const before = record.lost ?? []
  const fresh = endedKeptToo.length + running.length
  return [
    ...before.slice(Math.max(0, before.length - Math.max(0, LOST_KEPT - fresh))),
    ...endedKeptToo.map(endedKept),
    ...running.map((task): LostTask => ({
      ...task,
      reason: `the supervisor (pid ${record.supervisorPid}) ended ${whileItWas(task)}; nothing restarted it${
        task.logFile === null ? "" : `. Its output: ${task.logFile}`
      }`
    }))
  ]
}

/** A lost or ended task as list_tasks shows it (and `taskmux ps --json` when no supervisor runs). */
export const lostListed = (task: LostTask) => ({
  name: task.name,
  pid: null,
  status: hasEnded(task) ? task.status : "lost" as const,
  exitCode: hasEnded(task) ? task.exitCode : null,
  signal: hasEnded(task) ? task.signal : null,
  command: task.commandLine,
  startedAt: task.startedAt,
  endedAt: hasEnded(task) ? task.endedAt : null,
  ports: null,
  memoryBytes: null,
  reason: task.reason,
  logFile: task.logFile
})

/** What a task not ended was doing when its supervisor died: running, waiting to run again, or not yet started. */
const whileItWas = (task: RecordedTask) =>
  task.status === "restarting"
    ? "while it waited to run again (its restart policy)"
    : task.pid === null
    ? "before it had started"
    : `while it ran as pid ${task.pid}`
