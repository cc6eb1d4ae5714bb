/** What start_task with waitFor and wait_for_task share: the request, the answer, and its text. */
import { Effect, Schema } from "effect"
import { InvalidArguments } from "../../domain/errors.ts"
import { defaultTimeoutMs, exitAndPortIssue } from "../../domain/StartSpec.ts"
import { compactErrorLine, describeEnd, ErrorLine, isFinished, OutputLine, TaskStatus } from "../../domain/Task.ts"
import { type WaitResult } from "../../supervisor/TaskRegistry.ts"
import { asPattern, checkPort, sentence } from "./fields.ts"

/** A wait's fields as a caller gives them, checked and compiled; `prefix` is where they sit ("waitFor."). */
export const waitRequest = (
  tool: string,
  prefix: string,
  w: { readonly pattern?: string; readonly port?: number | "any"; readonly exit?: boolean; readonly timeoutMs?: number }
) =>
  Effect.gen(function*() {
    const pattern = w.pattern === undefined ? undefined : yield* asPattern(`${prefix}pattern`, w.pattern)
    if (w.exit === true && w.port !== undefined) {
      return yield* new InvalidArguments({ tool, issue: exitAndPortIssue(prefix) })
    }
    yield* checkPort(tool, `${prefix}port`, w.port)
    return {
      pattern,
      port: w.port,
      exit: w.exit === true,
      timeoutMs: w.timeoutMs ?? defaultTimeoutMs(w.exit)
    }
  })

/** The line a wait matched: where it is, and what it says. */
export const MatchedLine = Schema.Struct({
  seq: Schema.Int,
  text: Schema.String,
  stream: OutputLine.fields.stream,
  partial: OutputLine.fields.partial
})

/** What a wait found; start_task with waitFor answers the same fields. */
export const WaitFields = {
  matched: Schema.Boolean,
  line: Schema.optionalKey(MatchedLine),
  exitCode: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
  timedOut: Schema.Boolean,
  nextCursor: Schema.Int,
  elapsedMs: Schema.Int,
  durationMs: Schema.optionalKey(Schema.Int.annotate({ description: "How long the run lasted, once it ended." })),
  lastLines: Schema.Array(Schema.String),
  errorLines: Schema.optionalKey(
    Schema.Array(ErrorLine).annotate({
      description: "Earlier lines that look like the cause (errors, tracebacks), with their seq."
    })
  ),
  hint: Schema.optionalKey(Schema.String),
  port: Schema.optionalKey(Schema.Int),
  reason: Schema.optionalKey(Schema.String.annotate({
    description: "Why it ended for good: its restart policy gave up, or a run failed to start."
  }))
}

export const WaitOutput = Schema.Struct({ name: Schema.String, status: TaskStatus, ...WaitFields })
export type WaitAnswer = typeof WaitOutput.Type

/** A wait's result as answers carry it: its line and error lines compact. */
export const waitAnswer = ({ errorLines, line, ...rest }: WaitResult): WaitAnswer => ({
  ...rest,
  ...(line !== undefined && {
    line: {
      seq: line.seq,
      text: line.text,
      ...(line.stream !== "stdout" && { stream: line.stream }),
      ...(line.partial === true && { partial: true })
    }
  }),
  ...(errorLines !== undefined && { errorLines: errorLines.map(compactErrorLine) })
})

/** What a wait was for: a line, a port, the end, or (none of them) the end. */
export interface Wanted {
  readonly pattern?: string | undefined
  readonly port?: number | "any" | undefined
  readonly exit?: boolean | undefined
}

/** The summary of an end or a timeout: what looks like the cause, then the last lines. */
export const summaryText = (w: Pick<WaitAnswer, "errorLines" | "lastLines" | "status">) => {
  const errors = w.errorLines !== undefined && w.errorLines.length > 0
    ? `\n${
      // A run that ended well, or was stopped, had no cause to look for: what it printed is only that.
      w.status === "exited" || w.status === "stopped" ? "Errors it printed" : "Looks like the cause"}:\n${
      w.errorLines.map((l) => `  [${l.seq}] ${l.stream === "stderr" ? "! " : ""}${l.text}`).join("\n")
    }`
    : ""
  const last = w.lastLines.length > 0 ? `\nLast lines:\n${w.lastLines.join("\n")}` : ""
  return `${errors}${last}`
}

/** A wait's answer in words, ending as a read's does with where to read on from (`since`), once there are lines. */
export const waitText = (w: Omit<WaitAnswer, "name">, name: string, wanted: Wanted) =>
  `${waitSentence(w, name, wanted)}${w.nextCursor > 0 ? `\n[nextCursor ${w.nextCursor}]` : ""}`

const waitSentence = (w: Omit<WaitAnswer, "name">, name: string, wanted: Wanted) => {
  const seconds = `${(w.elapsedMs / 1000).toFixed(1)} s`
  if (w.matched && w.port !== undefined) {
    return `"${name}" is listening on port ${w.port} after ${seconds}${w.line ? `; matched: ${w.line.text}` : ""}.${
      summaryText(w)
    }`
  }
  if (w.matched && wanted.exit !== true) {
    return `"${name}" matched after ${seconds}: ${w.line?.text ?? ""}${w.lastLines.length > 1 ? summaryText(w) : ""}`
  }
  const hint = w.hint !== undefined ? ` ${w.hint}` : ""
  const port = wanted.port === undefined ? "" : `, not listening on ${portName(wanted.port)}`
  if (w.timedOut) return `Timed out after ${seconds}; "${name}" is still ${w.status}${port}.${hint}${summaryText(w)}`
  // Neither ended nor timed out: a port wait that cannot succeed (the port is another's, it listens elsewhere).
  if (!isFinished(w.status)) {
    return `Stopped waiting after ${seconds}: "${name}" is ${w.status}${port}.${hint}${summaryText(w)}`
  }
  const unmatched = wanted.port !== undefined
    ? ` without ${wanted.pattern !== undefined ? "a match and " : ""}listening on ${portName(wanted.port)}`
    : wanted.pattern !== undefined
    ? w.line !== undefined ? `; matched: ${w.line.text}` : " without a match"
    : ""
  const lasted = w.durationMs !== undefined ? `after running ${(w.durationMs / 1000).toFixed(1)} s` : `after ${seconds}`
  const why = w.reason !== undefined ? ` Why: ${sentence(w.reason)}` : ""
  return `"${name}" ended (${describeEnd(w.status, w.exitCode, w.signal)}) ${lasted}${unmatched}.${why}${hint}${
    summaryText(w)
  }`
}

export const portName = (port: number | "any") => port === "any" ? "any port" : `port ${port}`
