/**
 * The task model shared by the supervisor and the MCP tools: statuses, output lines,
 * and the views of a task that tools return. Schemas here are the single source of
 * truth for both validation and the JSON Schema handed to clients.
 */
import { Schema } from "effect"
import { signalOf } from "./Signals.ts"

/** What a task may be called: the tools, the project file and the CLI all take these. */
export const TASK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
export const TASK_NAME_RULE = "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"

export const TaskStatus = Schema.Literals(["running", "restarting", "exited", "crashed", "stopped", "failed"])
export type TaskStatus = typeof TaskStatus.Type

/** The streams of a task on pipes, as its process and its buffer know them. */
export type StreamId = "stdout" | "stderr"

/** A task on a terminal has one stream, "terminal": its program's stdout and stderr, as a terminal shows them. */
export const StreamName = Schema.Literals(["stdout", "stderr", "terminal"])
export type StreamName = typeof StreamName.Type

/** A line as the task wrote it, with everything known about it; answers show less (see `OutputLine`). */
export interface LineRecord {
  readonly seq: number
  readonly stream: StreamName
  readonly text: string
  /** Epoch milliseconds it arrived. */
  readonly time: number
  readonly partial?: boolean
  readonly cut?: boolean
  readonly run?: number
}

/**
 * A line in an answer: only what its text does not say. Lines come in order, each one after the
 * previous (seq + 1), so `seq` is given for the first line and after a gap (a grep, a stream).
 */
export const OutputLine = Schema.Struct({
  text: Schema.String,
  seq: Schema.optionalKey(Schema.Int.annotate({
    description: "Its position (a cursor for since); given on the first line and after a gap, else previous + 1."
  })),
  stream: Schema.optionalKey(Schema.Literals(["stderr", "terminal"]).annotate({ description: "Absent: stdout." })),
  time: Schema.optionalKey(Schema.String.annotate({ description: "ISO time it arrived, with timestamps: true." })),
  partial: Schema.optionalKey(Schema.Boolean.annotate({
    description: "No newline yet (a prompt); shown again, whole, once it ends."
  })),
  cut: Schema.optionalKey(Schema.Boolean.annotate({ description: "Cut at the line limit: the next line goes on." })),
  run: Schema.optionalKey(Schema.Int.annotate({ description: "It starts run N (after a restart)." }))
})
export type OutputLine = typeof OutputLine.Type

/** Lines as answers carry them: `seq` only where it does not follow, the stream only when not stdout. */
export const compactLines = (
  lines: ReadonlyArray<LineRecord>,
  timestamps = false
): Array<OutputLine> => {
  let next: number | undefined
  return lines.map((l) => {
    const out: { -readonly [K in keyof OutputLine]: OutputLine[K] } = { text: l.text }
    if (l.seq !== next) out.seq = l.seq
    // A partial line is shown again, whole, with the same seq.
    next = l.partial === true ? l.seq : l.seq + 1
    if (l.stream !== "stdout") out.stream = l.stream
    if (timestamps) out.time = new Date(l.time).toISOString()
    if (l.partial === true) out.partial = true
    if (l.cut === true) out.cut = true
    if (l.run !== undefined) out.run = l.run
    return out
  })
}

/** A line picked out of the output to explain an end: where it is, and what it says. */
export const ErrorLine = Schema.Struct({
  seq: Schema.Int,
  stream: Schema.optionalKey(Schema.Literals(["stderr", "terminal"])),
  text: Schema.String
})

/** A summary line as tool answers and notifications carry it: the stream only when not stdout, no time. */
export const compactErrorLine = (
  line: { readonly seq: number; readonly stream: StreamName; readonly text: string }
): typeof ErrorLine.Type => ({
  seq: line.seq,
  ...(line.stream !== "stdout" && { stream: line.stream }),
  text: line.text
})

/**
 * Whose a task is, as the asking session sees it: its own (stopped when it disconnects), another
 * session's, or kept (outlives every session).
 */
export const TaskOwner = Schema.Literals(["you", "other", "kept"])

/** What `list_tasks` shows of each task. */
export const TaskSummary = Schema.Struct({
  name: Schema.String,
  pid: Schema.NullOr(Schema.Int),
  status: TaskStatus,
  exitCode: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
  command: Schema.String,
  startedAt: Schema.String,
  endedAt: Schema.NullOr(Schema.String),
  ports: Schema.NullOr(Schema.Array(Schema.Int)).annotate({
    description: "TCP ports its processes listen on; null where this OS cannot tell."
  }),
  memoryBytes: Schema.NullOr(Schema.Int).annotate({ description: "Resident memory of all its processes." }),
  paused: Schema.optionalKey(Schema.Boolean.annotate({ description: "Stopped by SIGSTOP/Ctrl-Z until SIGCONT." })),
  owner: TaskOwner,
  since: Schema.String,
  /** Whose another session's is: its client's name, for a person choosing whose task to stop. */
  client: Schema.optionalKey(Schema.String)
})
export type TaskSummary = typeof TaskSummary.Type

/** What `get_task` shows: the summary plus where it runs and what its buffer holds. */
export const TaskInfo = Schema.Struct({
  ...TaskSummary.fields,
  client: Schema.NullOr(Schema.String),
  args: Schema.NullOr(Schema.Array(Schema.String)),
  cwd: Schema.String,
  terminal: Schema.NullOr(Schema.Struct({ cols: Schema.Int, rows: Schema.Int })).annotate({
    description: "The terminal's size, for a task on a terminal; null on pipes."
  }),
  processes: Schema.NullOr(Schema.Array(Schema.Struct({
    pid: Schema.Int,
    command: Schema.String,
    paused: Schema.optionalKey(Schema.Boolean)
  }))).annotate({
    description: "Every process of the task now, those that left its process group included; paused: stopped " +
      "by a signal (SIGSTOP, Ctrl-Z) until SIGCONT."
  }),
  cpuPercent: Schema.NullOr(Schema.Finite).annotate({
    description: "CPU use of all its processes since the last look (100 = one core)."
  }),
  env: Schema.Array(Schema.String).annotate({ description: "Names of the variables in its environment." }),
  envValues: Schema.optionalKey(
    Schema.Record(Schema.String, Schema.String).annotate({
      description: "Its environment, with envValues: true."
    })
  ),
  restarts: Schema.Int,
  error: Schema.NullOr(Schema.String.annotate({ description: "Why the task failed to start." })),
  stdinOpen: Schema.Boolean,
  lines: Schema.Int.annotate({ description: "Lines held in the buffer now." }),
  droppedLines: Schema.Int.annotate({ description: "Oldest lines dropped to keep the buffer bounded." }),
  totalLines: Schema.Int,
  nextCursor: Schema.Int,
  logFile: Schema.NullOr(Schema.String.annotate({ description: "This run's complete output, every line, on disk." })),
  logBytes: Schema.Int,
  logCapped: Schema.Boolean.annotate({
    description: "The log reached its size cap; later output is only in the buffer."
  }),
  logError: Schema.NullOr(Schema.String),
  watchers: Schema.Int.annotate({ description: "Pending waits and resource subscriptions on this task." }),
  restartPolicy: Schema.Literals(["no", "on-failure", "always"]),
  lastExit: Schema.NullOr(Schema.Struct({
    status: TaskStatus,
    exitCode: Schema.NullOr(Schema.Int),
    signal: Schema.NullOr(Schema.String),
    at: Schema.String
  })),
  nextRestartAt: Schema.NullOr(Schema.String.annotate({ description: "When the next run starts, while restarting." }))
})
export type TaskInfo = typeof TaskInfo.Type

/** True when the task's process has ended (or could not start) and no restart is pending. */
export const isFinished = (status: TaskStatus): boolean => status !== "running" && status !== "restarting"

export interface ExitFacts {
  readonly code: number | null
  readonly signal: string | null
  /** stop_task, remove_task, restart_task or shutdown asked it to end. */
  readonly stopRequested: boolean
  /** Signals delivered with signal_task. */
  readonly signalsSent: ReadonlySet<string>
}

/**
 * How a run ended. `stopped` when we asked for it (or it died of a signal we sent with
 * signal_task, or a shell reported that signal as 128+n); otherwise `exited` for code 0
 * and `crashed` for anything else.
 */
export const classifyExit = (facts: ExitFacts, signalNumber: (name: string) => number | undefined): TaskStatus => {
  if (facts.stopRequested) return "stopped"
  if (facts.signal !== null && facts.signalsSent.has(facts.signal)) return "stopped"
  if (facts.code !== null && facts.code > 128) {
    for (const sent of facts.signalsSent) if (signalNumber(sent) === facts.code - 128) return "stopped"
  }
  return facts.code === 0 ? "exited" : "crashed"
}

/** The status transitions a task can make; anything else is a bug. */
export const canTransition = (from: TaskStatus | "new", to: TaskStatus): boolean => {
  switch (from) {
    case "new":
      return to === "running" || to === "failed"
    case "running":
      // failed: a run is shown running from the moment it is claimed, before its spawn (whose cwd
      // may be gone by a restart) has given it a pid.
      return to === "exited" || to === "crashed" || to === "stopped" || to === "restarting" || to === "failed"
    case "restarting":
      return to === "running" || to === "stopped" || to === "failed"
    default:
      // A finished task can be started again (restart_task, or start_task with its name).
      return to === "running" || to === "failed"
  }
}

/** A short phrase for how a task ended: "exit code 1", "killed by SIGKILL", "command not found". */
export const describeEnd = (status: TaskStatus, exitCode: number | null, signal: string | null): string => {
  if (status === "running") return "running"
  if (status === "restarting") return "restarting after it ended"
  if (status === "failed") return "could not start"
  if (signal !== null) return `${status}, killed by ${signal}`
  if (exitCode === 127) return `${status}, exit code 127: command not found`
  if (exitCode === 126) return `${status}, exit code 126: not executable`
  // A command run by `sh -c` that a signal killed ends the shell with 128 + the signal's number.
  const killedBy = exitCode !== null && exitCode > 128 ? signalOf(exitCode - 128) : undefined
  if (killedBy !== undefined) {
    return `${status}, exit code ${exitCode}: a shell's code for a command killed by ${killedBy}`
  }
  return `${status}, exit code ${exitCode}`
}
