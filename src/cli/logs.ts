/**
 * `taskmux logs NAME [-f]`: the last lines, then (following) each new line as it comes, until Ctrl-C
 * or the task's end. New output is pushed, not polled: the CLI subscribes to the task's output
 * resource (at most 4 updates a second) and reads from its cursor on each, so no line is missed or
 * shown twice; a parallel wait_for_task hears of the end.
 */
import { Deferred, Effect, Queue, Schedule } from "effect"
import type { LostTask } from "../daemon/lostRecord.ts"
import { jsonEscapingControls } from "../domain/escapeControls.ts"
import { cleanText } from "../output/cleanText.ts"
import { lastLinesOfFile } from "../output/fileTail.ts"
import type { ListAnswer, OutputLine, ReadAnswer, TaskAnswer, WaitAnswer } from "./answers.ts"
import { goneText, isGone, isLive, loggedIn, notRunYet, wentWithSession } from "./answers.ts"
import { CliFailure } from "./CliFailure.ts"
import { CliIo } from "./CliIo.ts"
import { type FullLine, fullLines, LinePrinter, type StreamName } from "./LinePrinter.ts"
import { endedLine, leftLine, lostLine, statusText } from "./psTable.ts"
import { type Style, style } from "./style.ts"
import { outputUri, type TaskmuxClient } from "./TaskmuxClient.ts"

export interface LogsOptions {
  readonly name: string
  readonly follow: boolean
  readonly tail: number
  readonly json: boolean
}

/** One answer's text at most: a page that is cut is read on from its cursor. */
const READ_BYTES = 1 << 20
/** The longest wait_for_task allows; a wait that times out is asked again. */
const END_WAIT_MS = 600_000
/** How often a follow of a project task not run yet looks whether it has started. */
const NOT_STARTED_LOOK_MS = 300

/** A note for the person on stderr, in brackets and dim: not the task's output. */
const note = (io: CliIo["Service"], text: string) => io.stderr(`${style(io.colourErr).dim(`[${text}]`)}\n`)

/** What prints pages of lines: text for people, or one JSON object per line. */
interface Printer {
  readonly page: (lines: ReadonlyArray<OutputLine>) => string
  readonly reset: () => void
  readonly finish: () => string
}

/**
 * Text: stderr lines marked "! " as read_output's text marks them, and red too on a terminal (the mark
 * stays: for whoever does not see red, and in what is copied).
 */
export const textPrinter = (s: Style, colour: boolean, columns?: number): Printer =>
  new LinePrinter({
    columns,
    piece: (stream: StreamName, text: string, start: boolean) => {
      if (stream !== "stderr") return text
      const marked = start ? `! ${text}` : text
      return colour ? s.red(marked) : marked
    },
    run: (run) => `${s.dim(`── run ${run} ──`)}\n`
  })

/**
 * JSON lines: `{ seq, stream, text }` (`cut: true` on a piece of a longer line), complete lines only when
 * following (a partial one comes again whole); a follow's last line says how the task ended:
 * `{ ended, exitCode, signal }` (`ended` its status, or "removed").
 */
export const jsonPrinter = (partials: boolean): Printer => {
  let shown = 0
  const show = (line: FullLine) => {
    const { cut, partial, ...rest } = line
    return `${jsonEscapingControls({ ...rest, ...(partial && { partial }), ...(cut && { cut }) })}\n`
  }
  return {
    page: (lines) =>
      fullLines(lines).filter((l) => l.partial ? partials : l.seq > shown).map((l) => {
        if (!l.partial) shown = l.seq
        return show(l)
      }).join(""),
    reset: () => {
      shown = 0
    },
    finish: () => ""
  }
}

/**
 * Where no supervisor runs: the last lines of the log file of a task the last one left (lost, or kept
 * and ended), and on stderr what became of it; followed, with --json, then how it ended.
 */
export const logsFromFile = (task: LostTask, tail: number, json: boolean, follow: boolean) =>
  fileTail(
    task.logFile!,
    tail,
    json,
    `${leftLine(task)}; shown from its log file, as no supervisor runs`,
    follow ? endOf(task) : undefined
  )

/** How a follow ended, as its last JSON line says it: the task's status, or "removed". */
type FollowEnd =
  | { readonly ended: string; readonly exitCode: number | null; readonly signal: string | null }
  | { readonly ended: "removed" }

/** A follow's last JSON line for a task that ended: its status, exit code and signal, in that order. */
const endOf = (
  task: { readonly status: string; readonly exitCode: number | null; readonly signal: string | null }
) => ({
  ended: task.status,
  exitCode: task.exitCode,
  signal: task.signal
})

/**
 * The last `tail` lines of a log file, clean as a live task's are (the file holds every byte: a colour, a
 * window title, each state of a progress bar would reach the person's terminal), then on stderr `said`;
 * with --json, a follow's `end` last, as every follow's JSON ends.
 */
const fileTail = (logFile: string, tail: number, json: boolean, said: string, end?: FollowEnd) =>
  Effect.gen(function*() {
    const io = yield* CliIo
    const lines = yield* Effect.try({
      try: () => lastLinesOfFile(logFile, tail).map((line) => cleanText(line)),
      catch: (error) => CliFailure.failed(`Cannot read ${logFile}: ${(error as Error).message}`)
    })
    // With --json one `{ text }` per line (no seq: the file has none).
    if (lines.length > 0) io.stdout(`${lines.map((text) => json ? jsonEscapingControls({ text }) : text).join("\n")}\n`)
    if (json && end !== undefined) io.stdout(`${jsonEscapingControls(end)}\n`)
    note(io, said)
  })

export const logs = Effect.fn("cli.logs")(function*(client: TaskmuxClient, options: LogsOptions) {
  const io = yield* CliIo
  const s = style(io.colour)
  // Notes go to stderr, coloured where that is a terminal.
  const { name } = options
  const printer = options.json ? jsonPrinter(!options.follow) : textPrinter(s, io.colour, io.columns)
  const read = (args: Record<string, unknown>) =>
    Effect.map(client.call<ReadAnswer>("read_output", { name, maxBytes: READ_BYTES, ...args }), (a) => a.structured)

  // A project task not run yet, followed: its output once it starts (`taskmux start` in another terminal),
  // as a person who opens the follow first expects; Ctrl-C ends the wait.
  const firstRead = options.follow
    ? read({ tail: options.tail }).pipe(
      Effect.catchIf((failure) => notRunYet(failure), () =>
        Effect.gen(function*() {
          note(io, `${name} has not run yet: following it once it starts`)
          return yield* read({ tail: options.tail }).pipe(
            Effect.retry({
              while: (again) => notRunYet(again),
              schedule: Schedule.spaced(NOT_STARTED_LOOK_MS)
            })
          )
        }))
    )
    : read({ tail: options.tail })
  // Read first: for an unknown name, read_output's error names the known tasks.
  const first = yield* firstRead.pipe(
    Effect.catch((failure) =>
      Effect.gen(function*() {
        // One the last supervisor lost: its output is in its log file, as where no supervisor runs.
        // One that went with its session: its log file, as the answer names it.
        const goneLog = wentWithSession(failure) ? loggedIn(failure) : undefined
        if (goneLog !== undefined) {
          yield* fileTail(
            goneLog,
            options.tail,
            options.json,
            `"${name}" went with its session; shown from its log file`,
            // Out of the list, as a task removed while followed is.
            options.follow ? { ended: "removed" } : undefined
          )
          return undefined
        }
        // One the last supervisor left (lost, or kept and ended before it exited): the same.
        const { tasks } = (yield* client.call<ListAnswer>("list_tasks", {})).structured
        const left = tasks.find((t) => t.name === name && t.reason !== undefined && !isLive(t.status))
        if (left?.logFile === undefined || left.logFile === null) return yield* Effect.fail(failure)
        const said = left.status === "lost" ? lostLine(name, left.reason ?? "") : endedLine(name, left.reason ?? "")
        yield* fileTail(
          left.logFile,
          options.tail,
          options.json,
          `${said}; shown from its log file`,
          options.follow ? endOf(left) : undefined
        )
        return undefined
      })
    )
  )
  if (first === undefined) return
  io.stdout(printer.page(first.lines))
  // Asked for more than the ring still holds: where all of it is, rather than fewer lines in silence.
  if (first.dropped > 0 && first.lines.length < options.tail) {
    const { logFile } = (yield* client.call<TaskAnswer>("get_task", { name })).structured
    const where = logFile ? `; all of its output is in ${logFile}` : ""
    note(io, `only its last ${first.lines.length} lines are held${where}`)
  }
  if (!options.follow) return io.stdout(printer.finish())

  let cursor = first.nextCursor
  const wake = yield* Queue.sliding<void>(1)
  yield* client.subscribe(outputUri(name), () => Queue.offerUnsafe(wake, undefined))
  // What came between the read and the subscription has no update of its own: look once now.
  Queue.offerUnsafe(wake, undefined)
  const readNew = Effect.gen(function*() {
    for (;;) {
      const page = yield* read({ since: cursor })
      if (page.dropped > 0 && !options.json) {
        note(io, `${page.dropped} lines were dropped from the buffer before they could be shown`)
      }
      io.stdout(printer.page(page.lines))
      cursor = page.nextCursor
      if (io.drained !== undefined) yield* io.drained
      if (!page.truncated) return
    }
  })
  const awaitEnd = Effect.gen(function*() {
    for (;;) {
      const wait = yield* client.call<WaitAnswer>("wait_for_task", { name, timeoutMs: END_WAIT_MS })
      if (!wait.structured.timedOut) return wait.structured
    }
  })

  const follow = Effect.gen(function*() {
    if (options.json) io.streaming?.()
    for (;;) {
      const ended = yield* Deferred.make<WaitAnswer, CliFailure>()
      yield* Effect.forkChild(Deferred.into(awaitEnd, ended))
      for (let over = false; !over;) {
        over = yield* Effect.raceFirst(Effect.as(Queue.take(wake), false), Effect.as(Deferred.await(ended), true))
        // Forgotten as it ended (its session's end took it): its end is the wait's answer, coming.
        const forgotten = yield* readNew.pipe(
          Effect.as(false),
          Effect.catchIf(
            (failure) => failure instanceof CliFailure && wentWithSession(failure),
            () => Effect.succeed(true)
          )
        )
        if (forgotten) over = true
      }
      // It ended (restart_task's stop is no end: the wait goes on across it). After its last lines,
      // stop, unless a new start came meanwhile.
      const end = yield* Deferred.await(ended)
      // Forgotten as it ended, with the session it belonged to: how it ended is the wait's answer.
      const task = yield* Effect.map(client.call<TaskAnswer>("get_task", { name }), (a) => a.structured).pipe(
        Effect.catchIf((failure) => wentWithSession(failure), () => Effect.succeed(undefined))
      )
      if (task === undefined) {
        io.stdout(printer.finish())
        if (options.json) {
          io.stdout(`${jsonEscapingControls(endOf(end))}\n`)
        } else note(io, `${name} ${statusText(end)}${end.hint === undefined ? "" : `: ${end.hint}`}`)
        return
      }

      if (task.nextCursor < cursor) {
        // A new start of a finished task begins a new output, numbered from 1.
        printer.reset()
        cursor = 0
      }
      yield* readNew
      if (!isLive(task.status)) {
        io.stdout(printer.finish())
        // How it ended: for a person on stderr, for a script as the last JSON line.
        if (options.json) {
          io.stdout(`${jsonEscapingControls(endOf(task))}\n`)
        } else note(io, `${name} ${statusText(task)}`)
        return
      }
    }
  })
  // Removed while followed (remove_task, or the end of the session it belonged to): said, not an error.
  yield* Effect.catchIf(follow, (failure) => isGone(failure), (failure) =>
    Effect.sync(() => {
      io.stdout(printer.finish())
      if (options.json) io.stdout(`${jsonEscapingControls({ ended: "removed" })}\n`)
      else note(io, goneText(name, failure))
    }))
})
