/**
 * The record on disk of what a project's supervisor runs (see LostTasks), read: what a dead one was
 * running when it died, and what was lost before. Plain Node, for the CLI too, which reads it when no
 * supervisor runs.
 */
import * as fs from "node:fs"
import { isFinished } from "../domain/Task.ts"
import type { RecordedTask } from "../supervisor/TaskRegistry.ts"

export interface LostTask extends RecordedTask {
  /** Why it is lost, and where its output is. */
  readonly reason: string
}

export interface RecordFile {
  readonly supervisorPid: number
  readonly tasks: ReadonlyArray<RecordedTask>
  readonly lost: ReadonlyArray<LostTask>
}

/** What a record says was running when its supervisor died, and what was lost before; none without one. */
export const readLost = (file: string): ReadonlyArray<LostTask> => {
  let record: RecordFile
  try {
    record = JSON.parse(fs.readFileSync(file, "utf8")) as RecordFile
  } catch {
    return []
  }
  const running = (record.tasks ?? []).filter((task) => !isFinished(task.status))
  return [
    ...(record.lost ?? []),
    ...running.map((task): LostTask => ({
      ...task,
      reason: `the supervisor (pid ${record.supervisorPid}) ended while it ran${
        task.pid === null ? "" : ` as pid ${task.pid}`
      }; nothing restarted it${task.logFile === null ? "" : `. Its output: ${task.logFile}`}`
    }))
  ]
}

/** A lost task as list_tasks shows it (and `taskmux ps --json` when no supervisor runs). */
export const lostListed = (task: LostTask) => ({
  name: task.name,
  pid: null,
  status: "lost" as const,
  exitCode: null,
  signal: null,
  command: task.commandLine,
  startedAt: task.startedAt,
  endedAt: null,
  ports: null,
  memoryBytes: null,
  reason: task.reason,
  logFile: task.logFile
})
