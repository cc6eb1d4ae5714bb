/** Fields and text helpers the tools share: one definition each, so their schemas and answers agree. */
import { Effect, Schema } from "effect"
import { clipText } from "../../domain/clipText.ts"
import { InvalidArguments, InvalidPattern } from "../../domain/errors.ts"
import { compilePattern, patternProblem, RefusedPattern } from "../../domain/pattern.ts"
import { PortWanted } from "../../domain/StartSpec.ts"
import { OutputLine, TASK_NAME, TASK_NAME_RULE, TaskStatus } from "../../domain/Task.ts"
import * as PortProbe from "../../process/PortProbe.ts"

export const TaskName = Schema.String.check(
  Schema.isPattern(TASK_NAME, { message: `a task name is ${TASK_NAME_RULE}` })
)

export const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

export const NameOnly = Schema.Struct({ name: TaskName })

export const StartedOutput = Schema.Struct({ name: Schema.String, pid: Schema.NullOr(Schema.Int), status: TaskStatus })
export const EndedOutput = Schema.Struct({
  name: Schema.String,
  status: TaskStatus,
  exitCode: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String)
})

export const TerminalCols = Schema.Int.check(Schema.isBetween({ minimum: 20, maximum: 1000 }))
export const TerminalRows = Schema.Int.check(Schema.isBetween({ minimum: 5, maximum: 500 }))

export const Port = PortWanted.annotate({
  description: "Ready once it listens on this TCP port, or \"any\"."
})

export const Pattern = Schema.String.annotate({
  description: "Regex on each line, e.g. \"ready|listening on\"."
})

export const ExitWanted = Schema.Boolean.annotate({
  description: "Answer at its end for good (after any restarts), with a summary."
})

/** A port wait this machine cannot answer fails before anything starts. */
export const checkPort = (tool: string, field: string, port: number | "any" | undefined) => {
  const problem = port === undefined ? undefined : PortProbe.unsupported(port)
  return problem === undefined
    ? Effect.void
    : Effect.fail(new InvalidArguments({ tool, issue: `${field}: ${problem}` }))
}

/** Compiles a caller's regex, or fails naming the field and the pattern. */
export const asPattern = (field: string, pattern: string) =>
  Effect.try({
    try: () => compilePattern(pattern),
    catch: (error) =>
      new InvalidPattern({
        field,
        pattern,
        reason: patternProblem(error),
        ...(error instanceof RefusedPattern && { refused: true })
      })
  })

/** `text` ending as a sentence does, once: an error's own message may end with its period already. */
export const sentence = (text: string) => /[.!?]$/.test(text) ? text : `${text}.`

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : word.endsWith("s") ? "es" : "s"}`

/** A command as one row of a table: a multi-line script's line breaks as spaces, and at most 120 characters. */
export const oneLine = (command: string) => {
  const line = command.replace(/\s+/g, " ")
  return clipText(line, 120)
}

/** ", ports 3000, 5173; 48 MB" for a task that uses something, else "". */
export const uses = (t: { readonly ports: ReadonlyArray<number> | null; readonly memoryBytes: number | null }) =>
  (t.ports !== null && t.ports.length > 0 ? `, ports ${t.ports.join(", ")}` : "") +
  (t.memoryBytes ? `, ${Math.round(t.memoryBytes / 1e6)} MB` : "")

/**
 * Lines as text; `collapse` (not raw): a run of blank lines (a screen cleared by printing newlines, as Vite
 * does) is said, not shown, and a piece of a cut line says it goes on (raw text is for joining them).
 */
export const formatLines = (lines: ReadonlyArray<typeof OutputLine.Type>, collapse = true) => {
  const out: Array<string> = []
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!
    let blank = i
    while (
      collapse && blank < lines.length && isBlank(lines[blank]!) && (blank === i || lines[blank]!.run === undefined)
    ) blank++
    if (blank - i >= BLANK_RUN) {
      out.push(`${l.run !== undefined ? `── run ${l.run} ──\n` : ""}(${blank - i} blank lines)`)
      i = blank - 1
      continue
    }
    out.push(
      `${l.run !== undefined ? `── run ${l.run} ──\n` : ""}${
        // timestamps: the time of day (UTC) in the text too, for a client that shows a model only the text.
        l.time !== undefined ? `${l.time.slice(11, 23)} ` : ""}${l.stream === "stderr" ? "! " : ""}${l.text}${
        // A piece of a line longer than the line limit: the text says so, as `cut` does.
        l.cut === true && collapse ? " [the line goes on below]" : ""}`
    )
  }
  return out.join("\n")
}

/** Blank lines in a row that the text says as one "(N blank lines)". */
const BLANK_RUN = 4
const isBlank = (l: typeof OutputLine.Type) => l.text.trim() === "" && l.partial !== true
