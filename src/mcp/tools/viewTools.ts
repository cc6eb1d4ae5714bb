/** The tools that look at tasks: list, describe, read output. */
import { Effect, Schema } from "effect"
import { columnsOf } from "../../domain/columns.ts"
import { EnvValuesRefused, InvalidArguments } from "../../domain/errors.ts"
import { compactLines, describeEnd, OutputLine, TaskInfo, TaskStatus, TaskSummary } from "../../domain/Task.ts"
import { listWithProject } from "../../project/projectTasks.ts"
import { isFenced, Viewer } from "../../supervisor/Viewer.ts"
import { tool, withRegistry } from "../Tool.ts"
import { asPattern, formatLines, NonNegativeInt, oneLine, Pattern, plural, sentence, TaskName, uses } from "./fields.ts"

/** A task as list_tasks shows it: a project task that has not run yet is "defined". */
const ListedTask = Schema.Struct({
  ...TaskSummary.fields,
  status: Schema.Literals([...TaskStatus.literals, "defined", "lost"]),
  startedAt: Schema.NullOr(Schema.String),
  owner: Schema.optionalKey(TaskSummary.fields.owner),
  since: Schema.optionalKey(Schema.String),
  reason: Schema.optionalKey(Schema.String),
  logFile: Schema.optionalKey(Schema.NullOr(Schema.String))
})

export const listTasks = tool({
  name: "list_tasks",
  title: "List tasks",
  description: "Every task: status, exit, ports, memory; project tasks not yet run are defined.",
  input: Schema.Struct({}),
  output: Schema.Struct({
    tasks: Schema.Array(ListedTask),
    projectError: Schema.optionalKey(Schema.String.annotate({ description: "Why the project file was not read." }))
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  run: () => listWithProject,
  text: ({ projectError, tasks }) =>
    (tasks.length === 0
      ? "No tasks."
      : tasks.map((t) =>
        `${t.name}\t${
          t.status === "defined"
            ? "defined (project task; start_task { name })"
            : t.status === "lost"
            ? `lost: ${t.reason} (start_task { name } runs it again)`
            : describeEnd(t.status as TaskStatus, t.exitCode, t.signal) +
              (t.paused === true ? " (paused: SIGCONT resumes it)" : "") +
              (t.reason === undefined ? "" : `: ${t.reason}`)
        }\t${t.pid === null ? "" : `pid ${t.pid}\t`}${oneLine(t.command)}${uses(t)}${ownerNote(t.owner, t.client)}`
      ).join("\n")) +
    (projectError === undefined ? "" : `\nNo project tasks: ${projectError}`)
})

/** Only what is not the caller's own is marked: with one session, nothing is. */
const ownerNote = (owner: string | undefined, client: string | undefined) =>
  owner === "kept"
    ? "\t[kept]"
    : owner === "other"
    ? `\t[another session's${client === undefined ? "" : `: ${client}`}]`
    : ""

export const getTask = tool({
  name: "get_task",
  title: "Describe a task",
  description: "One task in full: processes, ports, memory, environment, log file.",
  input: Schema.Struct({
    name: TaskName,
    envValues: Schema.optionalKey(Schema.Boolean.annotate({
      description: "With the values (may hold secrets).",
      default: false
    }))
  }),
  output: TaskInfo,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  run: ({ envValues, name }) =>
    withRegistry((r) =>
      Effect.gen(function*() {
        const task = yield* r.get(name, { envValues: envValues === true })
        // A fenced session is marked as less trusted than the person: another's secrets are not for it.
        if (envValues === true && task.owner !== "you" && isFenced((yield* Viewer).policy)) {
          return yield* new EnvValuesRefused({ name })
        }
        return task
      })
    ),
  text: (t) =>
    `Task "${t.name}": ${describeEnd(t.status, t.exitCode, t.signal)}; pid ${t.pid}; ${t.command} in ${t.cwd}; ` +
    sentence(`${plural(t.lines, "line")} held, ${t.droppedLines} dropped${t.error ? `; error: ${t.error}` : ""}`) +
    // What only this answer gives, said: a client that hands its model the text alone has no other way to it.
    (t.restarts > 0 || t.restartPolicy !== "no"
      ? ` Restart: ${t.restartPolicy}, ${plural(t.restarts, "restart")}${
        t.nextRestartAt !== null ? `, next at ${t.nextRestartAt}` : ""
      }.`
      : "") +
    (t.logFile !== null ? ` Log: ${t.logFile}${t.logCapped ? " (capped)" : ""}.` : "") +
    // Said, not only in the answer's fields: a client that shows the text would think the log holds it all.
    (t.logError !== null ? ` Its log is not written (${t.logError}): only the lines held are kept.` : "") +
    (t.processes !== null && t.processes.length > 0
      ? `\n${plural(t.processes.length, "process")}${uses(t)}${
        t.cpuPercent !== null ? `, CPU ${t.cpuPercent}%` : ""
      }:\n${
        t.processes.map((p) => `  ${p.pid} ${p.command}${p.paused ? " (paused: SIGCONT resumes it)" : ""}`).join("\n")
      }`
      : t.processes === null && t.status === "running"
      ? "\nIts processes, ports, memory and CPU are unknown here: this system has no /proc this server can read."
      : "") +
    (t.envValues !== undefined
      ? `\nEnvironment:\n${Object.entries(t.envValues).map(([k, v]) => `  ${k}=${v}`).join("\n")}`
      : `\nEnvironment: ${t.env.join(" ")}`)
})

const ReadOutput = Schema.Struct({
  lines: Schema.Array(OutputLine),
  screen: Schema.optionalKey(Schema.Array(Schema.String).annotate({ description: "The screen's rows." })),
  cursor: Schema.optionalKey(
    Schema.Struct({ row: Schema.Int, col: Schema.Int }).annotate({ description: "Where typing lands (0-based)." })
  ),
  nextCursor: Schema.Int,
  dropped: Schema.Int.annotate({ description: "Lines dropped from the buffer before being read." }),
  truncated: Schema.Boolean.annotate({ description: "More lines matched than fit in one answer." }),
  // An editor, a pager, a menu: the text says to read its screen (a description would cost every conversation).
  fullScreen: Schema.optionalKey(Schema.Boolean)
})
type ReadOutput = typeof ReadOutput.Type

/** The most text one read_output answer may be asked for (the CLI's pages are this). */
export const MAX_READ_BYTES = 1024 * 1024

const readInput = Schema.Struct({
  name: TaskName,
  stream: Schema.optionalKey(
    Schema.Literals(["stdout", "stderr", "all"]).annotate({ default: "all" })
  ),
  tail: Schema.optionalKey(NonNegativeInt),
  since: Schema.optionalKey(NonNegativeInt.annotate({ description: "A cursor: lines after it; 0: all." })),
  grep: Schema.optionalKey(Pattern.annotate({ description: "Only lines matching this regex." })),
  raw: Schema.optionalKey(Schema.Boolean.annotate({ description: "Keep ANSI codes and \\r redraws.", default: false })),
  maxBytes: Schema.optionalKey(
    // Past a MiB, no client's context holds an answer: page with since instead.
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(1), Schema.isLessThanOrEqualTo(MAX_READ_BYTES)).annotate({
      description: "Text per answer.",
      default: 32768
    })
  ),
  screen: Schema.optionalKey(Schema.Boolean.annotate({ description: "Terminal tasks: the screen now, as rows." })),
  timestamps: Schema.optionalKey(Schema.Boolean.annotate({ default: false }))
})

export const readOutput = tool<typeof readInput.Type, ReadOutput>({
  name: "read_output",
  title: "Read a task's output",
  description: "Read a task's output, both streams as they arrived, which may not be the order written " +
    "(\"! \" marks stderr): the last 100 lines, or since=nextCursor for new ones.",
  input: readInput,
  output: ReadOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  run: ({ grep, name, screen, timestamps, ...options }) =>
    withRegistry((r) =>
      Effect.gen(function*() {
        if (screen === true) {
          // What picks lines has nothing to pick on a screen: said, not ignored.
          const picks = [
            ...(["tail", "since"] as const).filter((field) => options[field] !== undefined),
            ...(grep === undefined ? [] : ["grep"])
          ]
          if (picks.length > 0) {
            return yield* new InvalidArguments({
              tool: "read_output",
              issue: `screen: true answers the whole screen as it is now; ${picks.join(", ")} pick lines: give ` +
                "screen alone, or leave it out to read lines"
            })
          }
          // Raw: one string that redraws it on another terminal, as `taskmux attach` does.
          const shown = yield* r.screen(name, { redraw: options.raw === true })
          return {
            lines: [],
            screen: shown.redraw !== undefined ? [shown.redraw] : shown.rows,
            cursor: shown.cursor,
            nextCursor: shown.nextCursor,
            dropped: 0,
            truncated: false
          }
        }
        const compiled = grep === undefined ? undefined : yield* asPattern("grep", grep)
        const page = yield* r.read(name, { ...options, grep: compiled })
        return { ...page, lines: compactLines(page.lines, timestamps) }
      })
    ),
  text: (o, input) => {
    if (o.screen !== undefined) {
      if (input.raw === true) return o.screen.join("")
      if (o.screen.length === 0) return "(blank screen)"
      // Said where typing would not land at the end of the text (an edit mid-line, a form, an editor).
      const { col, row } = o.cursor ?? { row: o.screen.length - 1, col: Infinity }
      // `col` counts cells, as a terminal does: a wide character (CJK, emoji) takes two.
      const atEnd = row === o.screen.length - 1 && col >= columnsOf(o.screen[row]!)
      return o.screen.join("\n") + (atEnd ? "" : `\n(the cursor is at row ${row + 1}, column ${col + 1})`)
    }
    // Paging (since) goes forward from the cursor; a tail read gives the newest lines and leaves out older ones.
    const paging = input.since !== undefined && input.tail === undefined
    const notes = [
      // The registry reads a cursor past the end from the start: a model that reads only text must hear why.
      input.since !== undefined && input.since > o.nextCursor
        ? `since ${input.since} is past this output's end (an earlier run's cursor: the task was started anew): ` +
          "read from its first line"
        : "",
      o.dropped > 0
        ? paging
          ? `${plural(o.dropped, "line")} dropped before being read (get_task's logFile has them)`
          : `${
            o.dropped === 1 ? "the oldest line is" : `the ${o.dropped} oldest lines are`
          } no longer held (get_task's logFile has them)`
        : "",
      o.truncated
        ? paging
          ? "more lines than fit: read again with since=nextCursor"
          : "older lines did not fit: a larger maxBytes, or since=0 to page from the oldest held"
        : "",
      o.lines.at(-1)?.partial === true ? "its last line has no newline yet" : "",
      // Its lines are what it drew over and over (vim's rows of ~): the screen is what a person sees.
      o.fullScreen === true
        ? "it shows a full screen (an editor, a pager, a menu): read_output { screen: true } shows it as a person sees it"
        : ""
    ].filter(Boolean)
    const body = o.lines.length === 0 ? "(no output)" : formatLines(o.lines, input.raw !== true)
    return `${body}\n[nextCursor ${o.nextCursor}${notes.length ? `; ${notes.join("; ")}` : ""}]`
  }
})
