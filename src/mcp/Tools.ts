/**
 * The tool table: for each tool its name, description, annotations, input and output
 * Schemas (the single source of truth: the JSON Schema clients see is derived from
 * them, and arguments are decoded with them), its handler and its short text answer.
 */
import type { CallToolResult, Tool as McpTool } from "@modelcontextprotocol/sdk/types.js"
import { Cause, Effect, Exit, References, Schema, Struct } from "effect"
import { TaskmuxConfig } from "../Config.ts"
import { formatSchemaError, InvalidArguments, InvalidPattern } from "../domain/errors.ts"
import { SignalName } from "../domain/Signals.ts"
import { defaultTimeoutMs, PortWanted, RestartSpec, TimeoutMs, WaitForSpec } from "../domain/StartSpec.ts"
import {
  compactErrorLine,
  compactLines,
  describeEnd,
  ErrorLine,
  isFinished,
  OutputLine,
  TaskInfo,
  TaskStatus,
  TaskSummary
} from "../domain/Task.ts"
import { DEFAULT_TERMINAL } from "../domain/TerminalSize.ts"
import * as PortProbe from "../process/PortProbe.ts"
import { Project } from "../project/Project.ts"
import { dependentsOf } from "../project/ProjectFile.ts"
import { startProjectTask } from "../project/startProjectTask.ts"
import { commandLine } from "../supervisor/startPolicy.ts"
import { TaskRegistry, type WaitResult } from "../supervisor/TaskRegistry.ts"

// ---------------------------------------------------------------------------------------
// Shared fields

const TaskName = Schema.String.check(
  Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    message: "a task name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
  })
)

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

const NameOnly = Schema.Struct({ name: TaskName })

const StartedOutput = Schema.Struct({ name: Schema.String, pid: Schema.NullOr(Schema.Int), status: TaskStatus })
const EndedOutput = Schema.Struct({
  name: Schema.String,
  status: TaskStatus,
  exitCode: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String)
})

const TerminalCols = Schema.Int.check(Schema.isBetween({ minimum: 20, maximum: 1000 }))
const TerminalRows = Schema.Int.check(Schema.isBetween({ minimum: 5, maximum: 500 }))

const Port = PortWanted.annotate({
  description: "Ready once it listens on this TCP port, or \"any\"."
})

const Pattern = Schema.String.annotate({
  description: "Regex tried on each line, e.g. \"ready|listening on\"."
})

const ExitWanted = Schema.Boolean.annotate({
  description: "Answer at its end for good (after any restarts), with a summary."
})

/** A wait's fields as a caller gives them, checked and compiled; `prefix` is where they sit ("waitFor."). */
const waitRequest = (
  tool: string,
  prefix: string,
  w: { readonly pattern?: string; readonly port?: number | "any"; readonly exit?: boolean; readonly timeoutMs?: number }
) =>
  Effect.gen(function*() {
    const pattern = w.pattern === undefined ? undefined : yield* asPattern(`${prefix}pattern`, w.pattern)
    if (w.exit === true && w.port !== undefined) {
      return yield* new InvalidArguments({
        tool,
        issue: `${prefix}exit waits for the end and ${prefix}port for a listening port: pass one of them`
      })
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
const MatchedLine = Schema.Struct({
  seq: Schema.Int,
  text: Schema.String,
  stream: OutputLine.fields.stream,
  partial: OutputLine.fields.partial
})

/** What a wait found; start_task with waitFor answers the same fields. */
const WaitFields = {
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

const WaitOutput = Schema.Struct({ name: Schema.String, status: TaskStatus, ...WaitFields })
type WaitAnswer = typeof WaitOutput.Type

/** A wait's result as answers carry it: its line and error lines compact. */
const waitAnswer = ({ errorLines, line, ...rest }: WaitResult): WaitAnswer => ({
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

/** A port wait this machine cannot answer fails before anything starts. */
const checkPort = (tool: string, field: string, port: number | "any" | undefined) => {
  const problem = port === undefined ? undefined : PortProbe.unsupported(port)
  return problem === undefined
    ? Effect.void
    : Effect.fail(new InvalidArguments({ tool, issue: `${field}: ${problem}` }))
}

/** Compiles a caller's regex, or fails naming the field and the pattern. */
const asPattern = (field: string, pattern: string) =>
  Effect.try({
    try: () => new RegExp(pattern),
    catch: (error) =>
      new InvalidPattern({
        field,
        pattern,
        reason: (error as Error).message.replace(/^Invalid regular expression: /, "")
      })
  })

/** What a wait was for: a line, a port, the end, or (none of them) the end. */
interface Wanted {
  readonly pattern?: string | undefined
  readonly port?: number | "any" | undefined
  readonly exit?: boolean | undefined
}

/** The summary of an end or a timeout: what looks like the cause, then the last lines. */
const summaryText = (w: Omit<WaitAnswer, "name">) => {
  const errors = w.errorLines !== undefined && w.errorLines.length > 0
    ? `\nLooks like the cause:\n${
      w.errorLines.map((l) => `  [${l.seq}] ${l.stream === "stderr" ? "! " : ""}${l.text}`).join("\n")
    }`
    : ""
  const last = w.lastLines.length > 0 ? `\nLast lines:\n${w.lastLines.join("\n")}` : ""
  return `${errors}${last}`
}

const waitText = (w: Omit<WaitAnswer, "name">, name: string, wanted: Wanted) => {
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
  const unmatched = wanted.port !== undefined
    ? ` without ${wanted.pattern !== undefined ? "a match and " : ""}listening on ${portName(wanted.port)}`
    : wanted.pattern !== undefined
    ? w.line !== undefined ? `; matched: ${w.line.text}` : " without a match"
    : ""
  const lasted = w.durationMs !== undefined ? `after running ${(w.durationMs / 1000).toFixed(1)} s` : `after ${seconds}`
  const why = w.reason !== undefined ? ` Why: ${w.reason}.` : ""
  return `"${name}" ended (${describeEnd(w.status, w.exitCode, w.signal)}) ${lasted}${unmatched}.${why}${
    summaryText(w)
  }`
}

const portName = (port: number | "any") => port === "any" ? "any port" : `port ${port}`

/** Progress for the caller's token, if any: seconds waited (always increasing, as MCP asks) and what happened. */
const progressOf = (context: ToolContext, timeoutMs: number) => {
  const progress = context.progress
  if (progress === undefined) return undefined
  let last = 0
  return (elapsedMs: number, note: string | undefined) => {
    last = Math.max(Math.round(elapsedMs / 100) / 10, last + 0.1)
    return progress(
      last,
      Math.round(timeoutMs / 1000),
      `waiting ${Math.round(elapsedMs / 1000)} s${note ? `; ${note}` : ""}`
    )
  }
}

// ---------------------------------------------------------------------------------------
// The table

interface ToolSpec<I, O> {
  readonly name: string
  readonly title: string
  readonly description: string
  readonly input: Schema.Codec<I, unknown>
  readonly output: Schema.Codec<O, unknown>
  readonly annotations: {
    readonly readOnlyHint: boolean
    readonly destructiveHint: boolean
    readonly idempotentHint: boolean
  }
  readonly run: (input: I, context: ToolContext) => Effect.Effect<O, { readonly message: string }, ToolEnv>
  /** The human-readable answer: short, and not a copy of the structured content. */
  readonly text: (output: O, input: I) => string
}

/** What the tools run with: the tasks, the project's task file, the options. */
export type ToolEnv = TaskRegistry | Project | TaskmuxConfig

/** What a call knows of its request: where to send progress, when the client asked for it. */
export interface ToolContext {
  readonly progress?: ((progress: number, total: number, message: string) => Effect.Effect<void>) | undefined
}

export interface Tool {
  readonly name: string
  readonly definition: McpTool
  readonly call: (args: unknown, context: ToolContext) => Effect.Effect<CallToolResult, never, ToolEnv>
}

const tool = <I, O>(spec: ToolSpec<I, O>): Tool => {
  const decode = Schema.decodeUnknownExit(spec.input)
  // Made once: a span wrapper made per call would capture a stack trace per call.
  const span = Effect.withSpan(`tool.${spec.name}`)
  // With tracing off (the default) no span at all: even a no-op one makes a new fiber context.
  const traced = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.flatMap(Effect.service(References.TracerEnabled), (enabled) => enabled ? span(effect) : effect)
  let definition: McpTool | undefined
  return {
    name: spec.name,
    // Built on the first tools/list, not at start-up.
    get definition() {
      return definition ??= {
        name: spec.name,
        title: spec.title,
        description: spec.description,
        inputSchema: jsonSchema(spec.input, true) as McpTool["inputSchema"],
        outputSchema: jsonSchema(spec.output, false) as McpTool["outputSchema"],
        // destructiveHint and idempotentHint mean something only for a tool that changes things.
        annotations: spec.annotations.readOnlyHint
          ? { readOnlyHint: true, openWorldHint: false }
          : { ...spec.annotations, openWorldHint: false }
      }
    },
    call: (args, context) =>
      Effect.suspend(() => {
        const input = decode(args ?? {}, { errors: "all", onExcessProperty: "error" })
        if (Exit.isFailure(input)) {
          const issue = formatSchemaError(Cause.squash(input.cause) as Schema.SchemaError, args)
          return Effect.succeed(errorResult(new InvalidArguments({ tool: spec.name, issue })))
        }
        return spec.run(input.value, context).pipe(
          traced,
          Effect.map((output): CallToolResult => ({
            content: [{ type: "text", text: spec.text(output, input.value) }],
            structuredContent: output as Record<string, unknown>
          })),
          Effect.catch((error) => Effect.succeed(errorResult(error)))
        )
      })
  }
}

const errorResult = (error: { readonly message: string }): CallToolResult => ({
  content: [{ type: "text", text: error.message }],
  isError: true
})

const jsonSchema = (schema: Schema.Top, descriptions: boolean) => {
  const { schema: json } = Schema.toJsonSchemaDocument(schema)
  // An empty Struct is "anything but null" in JSON Schema; MCP wants an object.
  return compact(json.type === "object" ? json : { type: "object", properties: {} }, descriptions)
}

const SAFE_INT = Number.MAX_SAFE_INTEGER

/**
 * The same JSON Schema in fewer bytes, since every client sends tools/list to its model:
 * no safe-integer bounds, no `additionalProperties: true` (the default), `type: ["string",
 * "null"]` for a nullable simple type, and descriptions only where asked.
 */
const compact = (node: unknown, descriptions: boolean): unknown => {
  if (Array.isArray(node)) return node.map((item) => compact(item, descriptions))
  if (typeof node !== "object" || node === null) return node
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) {
    if ((key === "maximum" && value === SAFE_INT) || (key === "minimum" && value === -SAFE_INT)) continue
    if ((key === "additionalProperties" && value === true) || (key === "description" && !descriptions)) continue
    out[key] = key === "properties" ? mapValues(value, (v) => compact(v, descriptions)) : compact(value, descriptions)
  }
  // An enum says its type.
  if (Array.isArray(out.enum) && out.type === "string") delete out.type
  const anyOf = out.anyOf
  if (Array.isArray(anyOf) && anyOf.length === 2 && isNullType(anyOf[1])) {
    const [first] = anyOf as [Record<string, unknown>]
    if (typeof first.type === "string" && !("enum" in first)) {
      delete out.anyOf
      return { ...out, ...first, type: [first.type, "null"] }
    }
  }
  return out
}

const mapValues = (record: unknown, f: (value: unknown) => unknown) =>
  Object.fromEntries(Object.entries(record as Record<string, unknown>).map(([k, v]) => [k, f(v)]))

const isNullType = (node: unknown) =>
  typeof node === "object" && node !== null && Object.keys(node).length === 1 &&
  (node as { type?: unknown }).type === "null"

const withRegistry = <A, E, R = never>(f: (registry: TaskRegistry["Service"]) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.service(TaskRegistry), f)

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : word.endsWith("s") ? "es" : "s"}`

/** A command as one row of a table: a multi-line script's line breaks as spaces, and at most 120 characters. */
const oneLine = (command: string) => {
  const line = command.replace(/\s+/g, " ")
  return line.length > 120 ? `${line.slice(0, 119)}…` : line
}

/** ", ports 3000, 5173; 48 MB" for a task that uses something, else "". */
const uses = (t: { readonly ports: ReadonlyArray<number> | null; readonly memoryBytes: number | null }) =>
  (t.ports !== null && t.ports.length > 0 ? `, ports ${t.ports.join(", ")}` : "") +
  (t.memoryBytes ? `, ${Math.round(t.memoryBytes / 1e6)} MB` : "")

const formatLines = (lines: ReadonlyArray<typeof OutputLine.Type>) =>
  lines.map((l) => `${l.run !== undefined ? `── run ${l.run} ──\n` : ""}${l.stream === "stderr" ? "! " : ""}${l.text}`)
    .join("\n")

// ---------------------------------------------------------------------------------------

const StartOutput = Schema.Struct({
  ...StartedOutput.fields,
  ...Schema.Struct(WaitFields).mapFields(Struct.map(Schema.optionalKey)).fields,
  tasks: Schema.optionalKey(Schema.Array(StartedOutput).annotate({ description: "A project task's chain, in order." }))
})

const startInput = Schema.Struct({
  command: Schema.optionalKey(
    Schema.String.check(Schema.isNonEmpty({ message: "command must not be empty" })).annotate({
      description: "Shell line, or program with args. Absent: start the project task name."
    })
  ),
  args: Schema.optionalKey(
    Schema.Array(Schema.String).annotate({
      description: "Arguments: run without a shell."
    })
  ),
  name: Schema.optionalKey(TaskName.annotate({ description: "Unique; made up when absent." })),
  cwd: Schema.optionalKey(Schema.String.annotate({ description: "Working directory." })),
  env: Schema.optionalKey(Schema.Record(Schema.String, Schema.String).annotate({ description: "Added to its own." })),
  // Its fields are described once, in wait_for_task's fields of the same names.
  waitFor: Schema.optionalKey(
    WaitForSpec.annotate({
      description: "Answer once ready, e.g. {\"port\": 5173}, or ended: {\"exit\": true}."
    })
  ),
  notifyOnExit: Schema.optionalKey(Schema.Boolean.annotate({ description: "Announce its end.", default: true })),
  terminal: Schema.optionalKey(Schema.Boolean.annotate({
    description: "On a pseudo-terminal: REPLs, prompts, programs that buffer on pipes.",
    default: false
  })),
  cols: Schema.optionalKey(TerminalCols.annotate({ description: "Terminal width.", default: DEFAULT_TERMINAL.cols })),
  rows: Schema.optionalKey(TerminalRows.annotate({ description: "Terminal height.", default: DEFAULT_TERMINAL.rows })),
  restart: Schema.optionalKey(RestartSpec.annotate({ description: "Run it again when it ends by itself." }))
})

/** How long a start without waitFor looks for an immediate end before it answers. */
const EARLY_END_MS = 100

const startTask = tool<typeof startInput.Type, typeof StartOutput.Type>({
  name: "start_task",
  title: "Start a task",
  description: "Run a command in the background (server, build, watcher; REPLs: terminal: true). Answers at " +
    "once, with its end if it fails at once; waitFor: once ready (a line, a port), or ended (exit: true).",
  input: startInput,
  output: StartOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  run: ({ cols, command, rows, terminal, waitFor, ...request }, context) =>
    withRegistry((r) =>
      Effect.gen(function*() {
        if (command === undefined) {
          if (request.name === undefined || Object.keys(request).length > 1 || waitFor !== undefined) {
            return yield* new InvalidArguments({
              tool: "start_task",
              issue: request.name === undefined
                ? "command is required (or name alone, to start a project task: list_tasks shows them as defined)"
                : "a project task is started by its name alone: its file gives the rest"
            })
          }
          const chain = yield* startProjectTask(request.name, progressOf(context, defaultTimeoutMs(false)))
          const waited = chain.wait === undefined ? {} : (({ name: _, ...w }) => w)(waitAnswer(chain.wait))
          return { ...chain.started, ...waited, tasks: chain.tasks }
        }
        if (
          waitFor !== undefined && waitFor.pattern === undefined && waitFor.port === undefined &&
          waitFor.exit !== true
        ) {
          return yield* new InvalidArguments({
            tool: "start_task",
            issue: "waitFor needs a pattern (a regex for the ready line), a port (a number, or \"any\") " +
              "or exit: true (the end)"
          })
        }
        const wait = waitFor === undefined ? undefined : yield* waitRequest("start_task", "waitFor.", waitFor)
        if (terminal !== true && (cols !== undefined || rows !== undefined)) {
          return yield* new InvalidArguments({
            tool: "start_task",
            issue: "cols and rows size a terminal: pass them with terminal: true"
          })
        }
        const started = yield* r.start({
          ...request,
          command,
          ...(terminal === true &&
            { terminal: { cols: cols ?? DEFAULT_TERMINAL.cols, rows: rows ?? DEFAULT_TERMINAL.rows } })
        })
        if (wait === undefined) {
          // A start that fails at once (a typo, a missing file) says so in its answer, not in a later read.
          const ended = yield* r.endedWithin(started.name, EARLY_END_MS)
          if (ended === undefined) return started
          const { name: _, ...waited } = waitAnswer(ended)
          return { ...started, ...waited }
        }
        const { name: _, ...waited } = waitAnswer(
          yield* r.wait(started.name, { ...wait, since: 0, onProgress: progressOf(context, wait.timeoutMs) })
        )
        return { ...started, ...waited }
      })
    ),
  text: (o, input) => {
    const chain = o.tasks === undefined || o.tasks.length < 2
      ? ""
      : `Project chain: ${o.tasks.map((t) => `${t.name} (${t.status}, pid ${t.pid})`).join(" → ")}.\n`
    return o.matched === undefined
      ? `${chain}Started task "${o.name}" (pid ${o.pid}).`
      : `${chain}Started task "${o.name}" (pid ${o.pid}). ${
        // Without waitFor, an answer with a wait's fields is an end seen within EARLY_END_MS.
        waitText(o as Omit<WaitAnswer, "name">, o.name, input.waitFor ?? { exit: true })}`
  }
})

const waitForTask = tool({
  name: "wait_for_task",
  title: "Wait for a task",
  description: "Wait until a line matches pattern, it listens on port, it ends, or timeoutMs passes. Lines " +
    "count from the last one shown about the task, so none is missed between calls.",
  input: Schema.Struct({
    name: TaskName,
    pattern: Schema.optionalKey(Pattern),
    since: Schema.optionalKey(
      NonNegativeInt.annotate({ description: "A cursor. Default: after the last line shown." })
    ),
    timeoutMs: Schema.optionalKey(TimeoutMs),
    port: Schema.optionalKey(Port),
    exit: Schema.optionalKey(ExitWanted)
  }),
  output: WaitOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  run: ({ name, since, ...fields }, context) =>
    withRegistry((r) =>
      Effect.gen(function*() {
        const wait = yield* waitRequest("wait_for_task", "", fields)
        return waitAnswer(yield* r.wait(name, { ...wait, since, onProgress: progressOf(context, wait.timeoutMs) }))
      })
    ),
  text: (o, input) => waitText(o, o.name, input)
})

const stopTask = tool({
  name: "stop_task",
  title: "Stop a task",
  description: "End a task and every process it started: the signal, then SIGKILL after graceMs; answers once " +
    "all are gone.",
  input: Schema.Struct({
    name: TaskName,
    signal: Schema.optionalKey(SignalName.annotate({ description: "Sent first.", default: "SIGTERM" })),
    graceMs: Schema.optionalKey(NonNegativeInt.annotate({ description: "Then SIGKILL.", default: 5000 })),
    force: Schema.optionalKey(Schema.Boolean.annotate({ description: "SIGKILL at once.", default: false })),
    dependents: Schema.optionalKey(Schema.Boolean.annotate({
      description: "Stop the project tasks that need it first.",
      default: false
    }))
  }),
  output: Schema.Struct({
    ...EndedOutput.fields,
    dependents: Schema.optionalKey(Schema.Array(Schema.String))
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  run: ({ dependents, name, ...request }) =>
    withRegistry((r) =>
      Effect.gen(function*() {
        if (dependents !== true) return { ...yield* r.stop(name, request) }
        const tasks = (yield* (yield* Project).current).file?.tasks ?? new Map()
        const listed = new Map((yield* r.list).map((t) => [t.name, t]))
        // Furthest first, so nothing is left waiting on what was stopped.
        const running = dependentsOf(tasks, name).filter((d) => {
          const t = listed.get(d)
          return t !== undefined && !isFinished(t.status)
        })
        yield* Effect.forEach(running, (d) => r.stop(d, request), { discard: true })
        return { ...yield* r.stop(name, request), dependents: running }
      })
    ),
  text: (o) =>
    `Task "${o.name}": ${describeEnd(o.status, o.exitCode, o.signal)}.${
      "dependents" in o && o.dependents.length > 0 ? ` Stopped first: ${o.dependents.join(", ")}.` : ""
    }`
})

const restartTask = tool({
  name: "restart_task",
  title: "Restart a task",
  description: "Stop a task if running and start it again; its output and cursors stay.",
  input: NameOnly,
  output: StartedOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  run: ({ name }) => withRegistry((r) => r.restart(name)),
  text: (o) => `Restarted task "${o.name}" (pid ${o.pid}).`
})

/** A task as list_tasks shows it: a project task that has not run yet is "defined". */
const ListedTask = Schema.Struct({
  ...TaskSummary.fields,
  status: Schema.Literals([...TaskStatus.literals, "defined"]),
  startedAt: Schema.NullOr(Schema.String)
})

const listTasks = tool({
  name: "list_tasks",
  title: "List tasks",
  description: "Every task: status, exit, ports, memory; project tasks not yet run are defined.",
  input: Schema.Struct({}),
  output: Schema.Struct({
    tasks: Schema.Array(ListedTask),
    projectError: Schema.optionalKey(Schema.String.annotate({ description: "Why the project file was not read." }))
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  run: () =>
    withRegistry((r) =>
      Effect.gen(function*() {
        const tasks: Array<typeof ListedTask.Type> = [...yield* r.list]
        const project = yield* (yield* Project).current
        const known = new Set(tasks.map((t) => t.name))
        for (const def of project.file?.tasks.values() ?? []) {
          if (known.has(def.name)) continue
          tasks.push({
            name: def.name,
            pid: null,
            status: "defined",
            exitCode: null,
            signal: null,
            command: commandLine(def.command, def.args ?? null),
            startedAt: null,
            endedAt: null,
            ports: null,
            memoryBytes: null
          })
        }
        return { tasks, ...(project.error !== undefined && { projectError: project.error.message }) }
      })
    ),
  text: ({ projectError, tasks }) =>
    (tasks.length === 0
      ? "No tasks."
      : tasks.map((t) =>
        `${t.name}\t${
          t.status === "defined"
            ? "defined (project task; start_task { name })"
            : describeEnd(t.status, t.exitCode, t.signal)
        }\t${t.pid === null ? "" : `pid ${t.pid}\t`}${oneLine(t.command)}${uses(t)}`
      ).join("\n")) +
    (projectError === undefined ? "" : `\nNo project tasks: ${projectError}`)
})

const getTask = tool({
  name: "get_task",
  title: "Describe a task",
  description: "One task in full: processes, ports, memory, environment, log file.",
  input: Schema.Struct({
    name: TaskName,
    envValues: Schema.optionalKey(Schema.Boolean.annotate({
      description: "Also the values (may hold secrets).",
      default: false
    }))
  }),
  output: TaskInfo,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  run: ({ envValues, name }) => withRegistry((r) => r.get(name, { envValues: envValues === true })),
  text: (t) =>
    `Task "${t.name}": ${describeEnd(t.status, t.exitCode, t.signal)}; pid ${t.pid}; ${t.command} in ${t.cwd}; ` +
    `${plural(t.lines, "line")} held, ${t.droppedLines} dropped${t.error ? `; error: ${t.error}` : ""}.` +
    (t.processes !== null && t.processes.length > 0
      ? `\n${plural(t.processes.length, "process")}${uses(t)}${
        t.cpuPercent !== null ? `, CPU ${t.cpuPercent}%` : ""
      }:\n${t.processes.map((p) => `  ${p.pid} ${p.command}`).join("\n")}`
      : "") +
    (t.envValues !== undefined
      ? `\nEnvironment:\n${Object.entries(t.envValues).map(([k, v]) => `  ${k}=${v}`).join("\n")}`
      : `\nEnvironment: ${t.env.join(" ")}`)
})

const ReadOutput = Schema.Struct({
  lines: Schema.Array(OutputLine),
  screen: Schema.optionalKey(Schema.Array(Schema.String).annotate({ description: "The screen's rows." })),
  nextCursor: Schema.Int,
  dropped: Schema.Int.annotate({ description: "Lines that were dropped from the buffer before they were read." }),
  truncated: Schema.Boolean.annotate({ description: "More lines matched than fit in one answer." })
})
type ReadOutput = typeof ReadOutput.Type

const readInput = Schema.Struct({
  name: TaskName,
  stream: Schema.optionalKey(
    Schema.Literals(["stdout", "stderr", "all"]).annotate({
      description: "Which stream.",
      default: "all"
    })
  ),
  tail: Schema.optionalKey(NonNegativeInt.annotate({ description: "The last N lines." })),
  since: Schema.optionalKey(NonNegativeInt.annotate({ description: "A cursor: lines after it; 0: all." })),
  grep: Schema.optionalKey(Pattern.annotate({ description: "Only lines matching this regex." })),
  raw: Schema.optionalKey(Schema.Boolean.annotate({ description: "Keep ANSI codes and \\r redraws.", default: false })),
  maxBytes: Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThan(0)).annotate({
      description: "Text per answer.",
      default: 32768
    })
  ),
  screen: Schema.optionalKey(Schema.Boolean.annotate({ description: "Terminal tasks: the screen now, as rows." })),
  timestamps: Schema.optionalKey(Schema.Boolean.annotate({ description: "Each line's time.", default: false }))
})

const readOutput = tool<typeof readInput.Type, ReadOutput>({
  name: "read_output",
  title: "Read a task's output",
  description: "Read a task's output, both streams in order (\"! \" marks stderr): the last 100 lines, or " +
    "since=nextCursor for new ones.",
  input: readInput,
  output: ReadOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  run: ({ grep, name, screen, timestamps, ...options }) =>
    withRegistry((r) =>
      Effect.gen(function*() {
        if (screen === true) {
          const shown = yield* r.screen(name)
          return { lines: [], screen: shown.rows, nextCursor: 0, dropped: 0, truncated: false }
        }
        const compiled = grep === undefined ? undefined : yield* asPattern("grep", grep)
        const page = yield* r.read(name, { ...options, grep: compiled })
        return { ...page, lines: compactLines(page.lines, timestamps) }
      })
    ),
  text: (o) => {
    if (o.screen !== undefined) return o.screen.length === 0 ? "(blank screen)" : o.screen.join("\n")
    const notes = [
      o.dropped > 0 ? `${plural(o.dropped, "line")} dropped before being read` : "",
      o.truncated ? "more lines than fit: read again with since=nextCursor" : ""
    ].filter(Boolean)
    const body = o.lines.length === 0 ? "(no output)" : formatLines(o.lines)
    return `${body}\n[nextCursor ${o.nextCursor}${notes.length ? `; ${notes.join("; ")}` : ""}]`
  }
})

const sendInput = tool({
  name: "send_input",
  title: "Type into a task",
  description: "Type into a running task's stdin (REPLs, prompts): \"\\n\" is Enter, eof closes it (Ctrl-D). " +
    "On a terminal \"\\u0003\" is Ctrl-C.",
  input: Schema.Struct({
    name: TaskName,
    data: Schema.String.annotate({ description: "Example: \"yes\\n\"." }),
    eof: Schema.optionalKey(Schema.Boolean.annotate({ description: "Close stdin after.", default: false })),
    cols: Schema.optionalKey(TerminalCols.annotate({ description: "Resize first." })),
    rows: Schema.optionalKey(TerminalRows.annotate({ description: "Resize first." }))
  }),
  output: Schema.Struct({ name: Schema.String, bytes: Schema.Int }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
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
        return { name, bytes: yield* r.send(name, data, eof ?? false) }
      })
    ),
  text: (o) => `Wrote ${plural(o.bytes, "byte")} to "${o.name}".`
})

const signalTask = tool({
  name: "signal_task",
  title: "Signal a task",
  description: "Signal every process of a running task: SIGINT for Ctrl-C, SIGHUP to reload, SIGSTOP/SIGCONT to pause.",
  input: Schema.Struct({ name: TaskName, signal: SignalName.annotate({ description: "The signal." }) }),
  output: Schema.Struct({ name: Schema.String, status: TaskStatus }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  run: ({ name, signal }) =>
    withRegistry((r) => Effect.map(r.signal(name, signal), (e) => ({ name: e.name, status: e.status }))),
  text: (o) => `Signal sent; task "${o.name}" is ${o.status}.`
})

const removeTask = tool({
  name: "remove_task",
  title: "Remove a task",
  description: "Stop a task if running and forget it; its log files stay.",
  input: Schema.Struct({
    name: TaskName,
    deleteLog: Schema.optionalKey(Schema.Boolean.annotate({ description: "Its log files too.", default: false }))
  }),
  output: Schema.Struct({ name: Schema.String, removed: Schema.Literal(true) }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  run: ({ deleteLog, name }) =>
    withRegistry((r) => Effect.as(r.remove(name, deleteLog), { name, removed: true as const })),
  text: (o) => `Removed task "${o.name}".`
})

export const tools: ReadonlyArray<Tool> = [
  startTask,
  stopTask,
  restartTask,
  listTasks,
  getTask,
  readOutput,
  waitForTask,
  sendInput,
  signalTask,
  removeTask
]
