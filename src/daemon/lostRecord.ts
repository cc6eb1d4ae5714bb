/**
 * The record on disk of what a project's supervisor runs (see LostTasks), read: what a dead one was
 * running when it died, what was lost before, and the kept tasks that had ended by themselves when
 * one exited in order (a kept build's result outlives the supervisor that ran it). Read by the CLI
 * too, when no supervisor runs.
 */
import { Effect, Option, Schema } from "effect"
import * as fs from "node:fs"
import { describeEnd, isFinished, TaskStatus } from "../domain/Task.ts"
import { defaultPolicy } from "../supervisor/RestartPolicy.ts"
import type { GoneTask, RecordedTask } from "../supervisor/TaskRegistry.ts"

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
  /** Tasks that went with their sessions, for whoever asks for one by name under the next supervisor too. */
  readonly gone: ReadonlyArray<GoneTask>
  /** What its runs' processes carry as their marker's start (see ProcessTree): the next one ends any left. */
  readonly sweep?: string
}

/**
 * Lost tasks remembered from crashes before the last, the newest (the last one's are all kept): each
 * crash of a supervisor would add its tasks for good.
 */
export const LOST_KEPT = 64

/** A field an older (or newer) writer may have left out: what it would have been. */
const orElse = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

/**
 * A task as a record holds it: what it must have to be shown and run again (its name, its command, how
 * it was), and the rest as it would be when left out. One that does not fit is dropped, not the record.
 * Made when a record is first read: a server alone never reads one, and building it as the server loads
 * cost 2 MB of RSS by the time 100 tasks ran (bench row 7).
 */
const recordedSchema = () =>
  Schema.Struct({
    name: Schema.String,
    command: Schema.String,
    commandLine: Schema.String,
    cwd: Schema.String,
    status: TaskStatus,
    startedAt: Schema.String,
    args: orElse(Schema.NullOr(Schema.Array(Schema.String)), null),
    env: orElse(Schema.Record(Schema.String, Schema.String), {}),
    notifyOnExit: orElse(Schema.Boolean, true),
    policy: orElse(
      Schema.Struct({
        policy: Schema.Literals(["no", "on-failure", "always"]),
        maxRestarts: Schema.Number,
        backoffMs: Schema.Number,
        maxBackoffMs: Schema.Number
      }),
      defaultPolicy
    ),
    terminal: orElse(Schema.NullOr(Schema.Struct({ cols: Schema.Number, rows: Schema.Number })), null),
    session: orElse(Schema.NullOr(Schema.String), null),
    client: orElse(Schema.NullOr(Schema.String), null),
    since: orElse(Schema.String, ""),
    pid: orElse(Schema.NullOr(Schema.Number), null),
    exitCode: orElse(Schema.NullOr(Schema.Number), null),
    signal: orElse(Schema.NullOr(Schema.String), null),
    endedAt: orElse(Schema.NullOr(Schema.String), null),
    logFile: orElse(Schema.NullOr(Schema.String), null)
  })
let decoders:
  | {
    readonly recorded: (entry: unknown) => Option.Option<RecordedTask>
    readonly lost: (entry: unknown) => Option.Option<LostTask>
  }
  | undefined
const decodersOf = () => {
  if (decoders !== undefined) return decoders
  const recorded = recordedSchema()
  return decoders = {
    recorded: Schema.decodeUnknownOption(recorded),
    lost: Schema.decodeUnknownOption(Schema.Struct({ ...recorded.fields, reason: orElse(Schema.String, "") }))
  }
}

/** The entries of `list` that decode, each as the task it records (its `since` its start where left out). */
const entries = <A extends RecordedTask>(list: unknown, decode: (entry: unknown) => Option.Option<A>) =>
  (Array.isArray(list) ? list : []).flatMap((entry) =>
    Option.match(decode(entry), {
      onNone: () => [],
      onSome: (task) => [task.since === "" ? { ...task, since: task.startedAt } : task]
    })
  )

/** What is said of a record that cannot be read whole: why, and what is lost with it. */
export type Unreadable = (why: string) => void

/**
 * The record, of whatever shape it was found in (another version's, a hand edit, a torn write): what it
 * holds that this build can use, and none of what it cannot (said to `unreadable`). Undefined where there
 * is none to read.
 */
const readRecord = (file: string, unreadable: Unreadable): RecordFile | undefined => {
  let parsed: unknown
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      unreadable(`cannot be read (${(error as Error).message}): what ran before is not shown as lost`)
    }
    return undefined
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    unreadable("holds no record of tasks: what ran before is not shown as lost")
    return undefined
  }
  const { gone, lost, supervisorPid, sweep, tasks } = parsed as Record<string, unknown>
  const record = {
    supervisorPid: typeof supervisorPid === "number" ? supervisorPid : 0,
    ...(typeof sweep === "string" && sweep !== "" && { sweep }),
    tasks: entries(tasks, decodersOf().recorded),
    lost: entries(lost, decodersOf().lost),
    // An older record has none.
    gone: entries(gone, decodersOf().lost)
  }
  const kept = new Set([...record.tasks, ...record.lost, ...record.gone].map((task) => task.name))
  const dropped = [tasks, lost, gone].flatMap((list) => Array.isArray(list) ? list : []).flatMap((entry: unknown) => {
    const name = (entry as { name?: unknown } | null)?.name
    return typeof name === "string" && kept.has(name) ? [] : [typeof name === "string" ? name : "unnamed"]
  })
  if (dropped.length > 0) {
    unreadable(
      `holds ${dropped.length} task${dropped.length === 1 ? "" : "s"} of another shape (${
        dropped.join(", ")
      }), not shown as lost`
    )
  }
  return record
}

/**
 * What a record says was running when its supervisor died, and what was lost before; none without one.
 * What of it cannot be read is said to `unreadable` (the supervisor's log), not dropped without a word.
 */
export const readLost = (file: string, unreadable: Unreadable = () => {}): ReadonlyArray<LostTask> =>
  readPast(file, unreadable).lost

/** readLost's, and the tasks that went with their sessions under the supervisors before. */
export const readPast = (
  file: string,
  unreadable: Unreadable = () => {}
): {
  readonly lost: ReadonlyArray<LostTask>
  readonly gone: ReadonlyArray<GoneTask>
  /** What the last supervisor was running when it ended, and its pid. */
  readonly leftRunning: ReadonlyArray<string>
  readonly supervisorPid: number
  /** Its runs' marker's start, where it left tasks running (see RecordFile). */
  readonly sweep?: string
} => {
  const record = readRecord(file, unreadable)
  if (record === undefined) return { lost: [], gone: [], leftRunning: [], supervisorPid: 0 }
  const leftRunning = record.tasks.filter((task) => !isFinished(task.status)).map((task) => task.name)
  return {
    lost: lostIn(record),
    gone: record.gone,
    leftRunning,
    supervisorPid: record.supervisorPid,
    ...(leftRunning.length > 0 && record.sweep !== undefined && { sweep: record.sweep })
  }
}

const lostIn = (record: RecordFile): ReadonlyArray<LostTask> => {
  const running = record.tasks.filter((task) => !isFinished(task.status))
  // A kept task that had ended by itself before its supervisor died is remembered as an orderly exit
  // remembers it (a kept build's result); the ones it already remembered come first.
  const remembered = new Set(record.lost.map((task) => task.name))
  const endedKeptToo = record.tasks.filter((task) =>
    task.session === null && ENDED_BY_ITSELF.has(task.status) && !remembered.has(task.name)
  )
  // This record's own are kept whole; those of crashes before, the newest that fit.
  const before = record.lost
  const fresh = endedKeptToo.length + running.length
  return [
    ...before.slice(Math.max(0, before.length - Math.max(0, LOST_KEPT - fresh))),
    ...endedKeptToo.map(endedKept),
    ...running.map((task) => lostWith(task, record.supervisorPid))
  ]
}

/** A task its supervisor (`supervisorPid`) ended with it, killed or in order: lost, to run again when asked. */
export const lostWith = (task: RecordedTask, supervisorPid: number): LostTask => ({
  ...task,
  reason: `the supervisor (pid ${supervisorPid}) ended ${whileItWas(task)}; nothing restarted it${
    task.logFile === null ? "" : `. Its output: ${task.logFile}`
  }`
})

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
