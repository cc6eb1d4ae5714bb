/** The tools that wait on a task and type into it. */
import { Effect, Schema } from "effect"
import { TimeoutMs } from "../../domain/StartSpec.ts"
import { DEFAULT_TERMINAL } from "../../domain/TerminalSize.ts"
import { joinHints } from "../../supervisor/hints.ts"
import { progressOf, tool, withRegistry } from "../Tool.ts"
import { ExitWanted, NonNegativeInt, Pattern, plural, Port, TaskName, TerminalCols, TerminalRows } from "./fields.ts"
import { waitAnswer, WaitOutput, waitRequest, waitText } from "./waits.ts"

export const waitForTask = tool({
  name: "wait_for_task",
  title: "Wait for a task",
  description: "Wait until a line matches pattern, it listens on port, it ends, or timeoutMs passes. Lines " +
    "count from the last one shown (2026-07-28 clients: the run's first).",
  input: Schema.Struct({
    name: TaskName,
    pattern: Schema.optionalKey(Pattern),
    since: Schema.optionalKey(
      NonNegativeInt.annotate({ description: "Default: after the last line shown." })
    ),
    timeoutMs: Schema.optionalKey(TimeoutMs),
    port: Schema.optionalKey(Port),
    exit: Schema.optionalKey(ExitWanted)
  }),
  output: WaitOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  canWait: true,
  run: ({ name, since, ...fields }, context) =>
    withRegistry((r) =>
      Effect.gen(function*() {
        const wait = yield* waitRequest("wait_for_task", "", fields)
        return waitAnswer(yield* r.wait(name, { ...wait, since, onProgress: progressOf(context, wait.timeoutMs) }))
      })
    ),
  text: (o, input) => waitText(o, o.name, input)
})

/** Why bytes were not read, where /proc shows that nobody but a shell line's shell holds the task's stdin. */
const NOBODY_READS = "No process of the task but its shell holds its stdin now: its program closed it, or reads " +
  "another, so they are read only if the shell reads them later (restart_task gives it a fresh stdin)."

export const sendInput = tool({
  name: "send_input",
  title: "Type into a task",
  description: "Type into a running task's stdin (REPLs, prompts); eof closes it (Ctrl-D). Enter is \"\\r\" " +
    "on a terminal (\"\\n\" on pipes); \"\\u0003\" is Ctrl-C on a terminal.",
  input: Schema.Struct({
    name: TaskName,
    data: Schema.String,
    eof: Schema.optionalKey(Schema.Boolean.annotate({ description: "Close stdin after.", default: false })),
    cols: Schema.optionalKey(TerminalCols.annotate({ description: "Resize first." })),
    rows: Schema.optionalKey(TerminalRows.annotate({ description: "Resize first." }))
  }),
  output: Schema.Struct({
    name: Schema.String,
    bytes: Schema.Int,
    unread: Schema.optionalKey(
      Schema.Int.annotate({ description: "Bytes sent that taskmux still holds, beyond what the system's buffer took." })
    ),
    hint: Schema.optionalKey(Schema.String)
  }),
  // Keys typed into a shell or a REPL run whatever they say.
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  run: ({ cols, data, eof, name, rows }) =>
    withRegistry((r) =>
      Effect.gen(function*() {
        if (cols !== undefined || rows !== undefined) {
          const now = (yield* r.get(name)).terminal
          yield* r.resize(name, {
            cols: cols ?? now?.cols ?? DEFAULT_TERMINAL.cols,
            rows: rows ?? now?.rows ?? DEFAULT_TERMINAL.rows
          })
        }
        // On pipes a control key is a byte like any other: no terminal turns it into a signal.
        const pipesCtrlC = data.includes("\u0003") && (yield* r.get(name)).terminal === null
        const sent = yield* r.send(name, data, eof ?? false)
        return {
          name,
          bytes: sent.bytes,
          ...(sent.unread > 0 && { unread: sent.unread }),
          ...joinHints(
            pipesCtrlC ?
              {
                hint:
                  "It runs on pipes, where \"\\u0003\" is only a byte, not Ctrl-C: signal_task SIGINT interrupts it."
              } :
              {},
            sent.nobodyReads === true ? { hint: NOBODY_READS } : {}
          )
        }
      })
    ),
  text: (o, input) =>
    `${
      o.bytes === 0 && input.eof === true
        ? "Closed the input of"
        // A resize alone wrote nothing: what it did is the size.
        : o.bytes === 0 && (input.cols !== undefined || input.rows !== undefined)
        ? `Resized the terminal (${
          [input.cols && `${input.cols} columns`, input.rows && `${input.rows} rows`].filter(Boolean).join(", ")
        }) of`
        : `Wrote ${plural(o.bytes, "byte")} to`
    } "${o.name}"${input.eof === true && o.bytes > 0 ? ", then closed its input" : ""}.${
      o.unread === undefined
        ? ""
        : ` After a second it has not read ${plural(o.unread, "byte")} of its input${
          o.hint?.includes(NOBODY_READS) === true
            ? "."
            : ": it is busy, or does not read it; they reach it as it reads."
        }`
    }${o.hint === undefined ? "" : ` ${o.hint}`}`
})
