/**
 * The tool table: for each tool its name, description, annotations, input and output
 * Schemas (the single source of truth: the JSON Schema clients see is derived from
 * them, and arguments are decoded with them), its handler and its short text answer.
 */
import type { CallToolResult, Tool as McpTool } from "@modelcontextprotocol/sdk/types.js"
import { Cause, Effect, Exit, Schema, Struct } from "effect"
import { compilePattern, formatSchemaError, InvalidArguments, InvalidPattern } from "../domain/errors.ts"
import { SignalName } from "../domain/Signals.ts"
import { describeEnd, OutputLine, TaskInfo, TaskStatus, TaskSummary } from "../domain/Task.ts"
import { TaskRegistry, type WaitResult } from "../tasks/TaskRegistry.ts"

// ---------------------------------------------------------------------------------------
// Shared fields

const TaskName = Schema.String.check(
  Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    message: "a task name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
  })
).annotate({ description: "The task's name, as given by start_task or list_tasks. Example: \"web\"." })

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Nullable = <S extends Schema.Top>(s: S) => Schema.NullOr(s)

const NameOnly = Schema.Struct({ name: TaskName })

const StartedOutput = Schema.Struct({ name: Schema.String, pid: Nullable(Schema.Int), status: TaskStatus })
const EndedOutput = Schema.Struct({
  name: Schema.String,
  status: TaskStatus,
  exitCode: Nullable(Schema.Int),
  signal: Nullable(Schema.String)
})

const Pattern = Schema.String.annotate({
  description: "A JavaScript regular expression matched against each output line. Example: \"ready|listening on\"."
})

const TimeoutMs = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 600_000 })).annotate({
  description: "Give up after this many milliseconds. Default 30000, at most 600000 (10 minutes)."
})

/** What a wait found; start_task with waitFor answers the same fields. */
const WaitFields = {
  matched: Schema.Boolean,
  line: Schema.optionalKey(OutputLine),
  exitCode: Nullable(Schema.Int),
  signal: Nullable(Schema.String),
  timedOut: Schema.Boolean,
  nextCursor: Schema.Int,
  elapsedMs: Schema.Int,
  lastLines: Schema.Array(Schema.String)
}

const asPattern = (field: string, pattern: string) =>
  Effect.suspend(() => {
    const compiled = compilePattern(field, pattern)
    return compiled instanceof InvalidPattern ? Effect.fail(compiled) : Effect.succeed(compiled)
  })

const waitText = (w: Omit<WaitResult, "name">, name: string) => {
  const seconds = `${(w.elapsedMs / 1000).toFixed(1)} s`
  if (w.matched) return `"${name}" matched after ${seconds}: ${w.line?.text ?? ""}`
  const last = w.lastLines.length > 0 ? `\nLast lines:\n${w.lastLines.join("\n")}` : ""
  if (w.timedOut) return `Timed out after ${seconds}; "${name}" is still ${w.status}.${last}`
  return `"${name}" ended (${describeEnd(w.status, w.exitCode, w.signal)}) after ${seconds}${w.matched ? "" : " without a match"}.${last}`
}

const progressOf = (context: ToolContext, timeoutMs: number) =>
  context.progress === undefined
    ? undefined
    : (elapsedMs: number, lastLine: string | undefined) =>
      context.progress!(Math.round(elapsedMs / 1000), Math.round(timeoutMs / 1000), `waiting ${Math.round(elapsedMs / 1000)} s${lastLine ? `; last line: ${lastLine.slice(0, 200)}` : ""}`)

// ---------------------------------------------------------------------------------------
// The table

interface ToolSpec<I, O> {
  readonly name: string
  readonly title: string
  readonly description: string
  readonly input: Schema.Codec<I, unknown>
  readonly output: Schema.Codec<O, unknown>
  readonly annotations: { readonly readOnlyHint: boolean; readonly destructiveHint: boolean; readonly idempotentHint: boolean }
  readonly run: (input: I, context: ToolContext) => Effect.Effect<O, { readonly message: string }, TaskRegistry>
  /** The human-readable answer: short, and not a copy of the structured content. */
  readonly text: (output: O) => string
}

/** What a call knows of its request: where to send progress, when the client asked for it. */
export interface ToolContext {
  readonly progress?: ((progress: number, total: number, message: string) => Effect.Effect<void>) | undefined
}

export interface Tool {
  readonly definition: McpTool
  readonly call: (args: unknown, context: ToolContext) => Effect.Effect<CallToolResult, never, TaskRegistry>
}

const tool = <I, O>(spec: ToolSpec<I, O>): Tool => {
  const decode = Schema.decodeUnknownExit(spec.input)
  return {
    definition: {
      name: spec.name,
      title: spec.title,
      description: spec.description,
      inputSchema: jsonSchema(spec.input) as McpTool["inputSchema"],
      outputSchema: jsonSchema(spec.output) as McpTool["outputSchema"],
      annotations: { title: spec.title, ...spec.annotations, openWorldHint: false }
    },
    call: (args, context) =>
      Effect.suspend(() => {
        const input = decode(args ?? {}, { errors: "all", onExcessProperty: "error" })
        if (Exit.isFailure(input)) {
          const issue = formatSchemaError(Cause.squash(input.cause) as Schema.SchemaError)
          return Effect.succeed(errorResult(new InvalidArguments({ tool: spec.name, issue })))
        }
        return spec.run(input.value, context).pipe(
          Effect.withSpan(`tool.${spec.name}`),
          Effect.map((output): CallToolResult => ({
            content: [{ type: "text", text: spec.text(output) }],
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

const jsonSchema = (schema: Schema.Top) => {
  const { schema: json } = Schema.toJsonSchemaDocument(schema)
  // An empty Struct is "anything but null" in JSON Schema; MCP wants an object.
  return json.type === "object" ? json : { type: "object", properties: {}, additionalProperties: false }
}

const withRegistry = <A, E>(f: (registry: TaskRegistry["Service"]) => Effect.Effect<A, E>) =>
  Effect.flatMap(Effect.service(TaskRegistry), f)

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

const formatLines = (lines: ReadonlyArray<typeof OutputLine.Type>) =>
  lines.map((l) => `${l.run !== undefined ? `── run ${l.run} ──\n` : ""}${l.stream === "stderr" ? "! " : ""}${l.text}`).join("\n")

// ---------------------------------------------------------------------------------------

const StartOutput = Schema.Struct({
  ...StartedOutput.fields,
  ...Schema.Struct(WaitFields).mapFields(Struct.map(Schema.optionalKey)).fields
})

const startInput = Schema.Struct({
  command: Schema.String.check(Schema.isNonEmpty({ message: "command must not be empty" })).annotate({
    description: "A shell line (\"npm run dev\"), or the program to run when args is given (\"node\")."
  }),
  args: Schema.optionalKey(Schema.Array(Schema.String).annotate({
    description: "Arguments, passed as-is without a shell. Example: [\"server.js\", \"--port\", \"3000\"]."
  })),
  name: Schema.optionalKey(TaskName.annotate({
    description: "A unique name to refer to the task; generated from the command when absent. Example: \"web\"."
  })),
  cwd: Schema.optionalKey(Schema.String.annotate({
    description: "Working directory (absolute, or relative to the server's). Example: \"/home/me/app\"."
  })),
  env: Schema.optionalKey(Schema.Record(Schema.String, Schema.String).annotate({
    description: "Variables added to the inherited environment. Example: {\"PORT\": \"3000\"}."
  })),
  waitFor: Schema.optionalKey(Schema.Struct({ pattern: Pattern, timeoutMs: Schema.optionalKey(TimeoutMs) }).annotate({
    description: "Answer only once a line matches (or the task ends, or time runs out). " +
      "For servers: {\"pattern\": \"listening|ready\"}."
  })),
  notifyOnExit: Schema.optionalKey(Schema.Boolean.annotate({
    description: "Send a log notification when the task ends. Default true."
  })),
  restart: Schema.optionalKey(Schema.Struct({
    policy: Schema.Literals(["no", "on-failure", "always"]),
    maxRestarts: Schema.optionalKey(NonNegativeInt.annotate({ description: "Restarts in a row before giving up. Default 5." })),
    backoffMs: Schema.optionalKey(NonNegativeInt.annotate({ description: "First delay, doubling each time. Default 500." })),
    maxBackoffMs: Schema.optionalKey(NonNegativeInt.annotate({ description: "Longest delay. Default 30000." }))
  }).annotate({
    description: "Start it again when it ends by itself: \"on-failure\" (non-zero exit or crash) or \"always\". " +
      "Example: {\"policy\": \"on-failure\"}. Default: no restarts."
  }))
})

const startTask = tool<typeof startInput.Type, typeof StartOutput.Type>({
  name: "start_task",
  title: "Start a background task",
  description:
    "Start a long-running command in the background (dev server, build, watcher, REPL) and return at once. " +
    "Read its output with read_output, type into it with send_input, end it with stop_task. " +
    "Without args, `command` is a shell line run by /bin/sh -c; with args, `command` is executed directly.",
  input: startInput,
  output: StartOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  run: ({ waitFor, ...request }, context) =>
    withRegistry((r) =>
      Effect.gen(function*() {
        const pattern = waitFor === undefined ? undefined : yield* asPattern("waitFor.pattern", waitFor.pattern)
        const started = yield* r.start(request)
        if (pattern === undefined) return started
        const timeoutMs = waitFor?.timeoutMs ?? 30_000
        const { name: _, ...waited } = yield* r.wait(started.name, {
          pattern,
          since: 0,
          timeoutMs,
          onProgress: progressOf(context, timeoutMs)
        })
        return { ...started, ...waited }
      })
    ),
  text: (o) =>
    o.matched === undefined
      ? `Started task "${o.name}" (pid ${o.pid}).`
      : `Started task "${o.name}" (pid ${o.pid}). ${waitText(o as Omit<WaitResult, "name">, o.name)}`
})

const waitForTask = tool({
  name: "wait_for_task",
  title: "Wait for output or the end of a task",
  description:
    "Wait until a line of a task's output matches `pattern` (e.g. a server's \"ready\" line), or the task ends, " +
    "or timeoutMs passes, in one call instead of polling read_output. Only lines produced after the call count, " +
    "unless `since` is given (since: 0 searches the whole buffer). Without a pattern, waits for the task to end.",
  input: Schema.Struct({
    name: TaskName,
    pattern: Schema.optionalKey(Pattern),
    since: Schema.optionalKey(NonNegativeInt.annotate({
      description: "Only lines after this cursor count. Default: lines produced after this call starts."
    })),
    timeoutMs: Schema.optionalKey(TimeoutMs)
  }),
  output: Schema.Struct({ name: Schema.String, status: TaskStatus, ...WaitFields }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  run: ({ name, pattern, since, timeoutMs = 30_000 }, context) =>
    withRegistry((r) =>
      Effect.gen(function*() {
        const compiled = pattern === undefined ? undefined : yield* asPattern("pattern", pattern)
        return yield* r.wait(name, { pattern: compiled, since, timeoutMs, onProgress: progressOf(context, timeoutMs) })
      })
    ),
  text: (o) => waitText(o, o.name)
})

const stopTask = tool({
  name: "stop_task",
  title: "Stop a task",
  description:
    "End a task and every process it started (its whole process group): the signal first, SIGKILL after graceMs. " +
    "Answers once all of them are gone, with how the task ended. The task and its output stay until remove_task.",
  input: Schema.Struct({
    name: TaskName,
    signal: Schema.optionalKey(SignalName.annotate({ description: "First signal to send. Default \"SIGTERM\"." })),
    graceMs: Schema.optionalKey(NonNegativeInt.annotate({
      description: "Milliseconds to wait before SIGKILL. Default 5000."
    })),
    force: Schema.optionalKey(Schema.Boolean.annotate({ description: "SIGKILL at once. Default false." }))
  }),
  output: EndedOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  run: ({ name, ...request }) => withRegistry((r) => r.stop(name, request)),
  text: (o) => `Task "${o.name}": ${describeEnd(o.status, o.exitCode, o.signal)}.`
})

const restartTask = tool({
  name: "restart_task",
  title: "Restart a task",
  description:
    "Stop a task if it is running (SIGTERM, then SIGKILL after 5 s) and start the same command again. " +
    "Its output buffer is kept, so cursors from read_output stay valid.",
  input: NameOnly,
  output: StartedOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  run: ({ name }) => withRegistry((r) => r.restart(name)),
  text: (o) => `Restarted task "${o.name}" (pid ${o.pid}).`
})

const listTasks = tool({
  name: "list_tasks",
  title: "List tasks",
  description: "List every task, running or finished, with its status and exit code.",
  input: Schema.Struct({}),
  output: Schema.Struct({ tasks: Schema.Array(TaskSummary) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  run: () => withRegistry((r) => Effect.map(r.list, (tasks) => ({ tasks }))),
  text: ({ tasks }) =>
    tasks.length === 0
      ? "No tasks."
      : tasks.map((t) => `${t.name}\t${describeEnd(t.status, t.exitCode, t.signal)}\tpid ${t.pid}\t${t.command}`).join("\n")
})

const getTask = tool({
  name: "get_task",
  title: "Describe a task",
  description: "Everything about one task: status, exit code or signal, pid, command, cwd, restarts, buffer size.",
  input: NameOnly,
  output: TaskInfo,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  run: ({ name }) => withRegistry((r) => r.get(name)),
  text: (t) =>
    `Task "${t.name}": ${describeEnd(t.status, t.exitCode, t.signal)}; pid ${t.pid}; ${t.command} in ${t.cwd}; ` +
    `${plural(t.lines, "line")} held, ${t.droppedLines} dropped${t.error ? `; error: ${t.error}` : ""}.`
})

const readOutput = tool({
  name: "read_output",
  title: "Read a task's output",
  description:
    "Read a task's recent output lines (stdout and stderr interleaved in arrival order). " +
    "Without since or tail: the last 100 lines. To follow a task, pass the previous answer's nextCursor as " +
    "`since` to get only new lines. A line still waiting for its newline (a prompt) comes last with partial: true. " +
    "In the text answer, stderr lines start with \"! \".",
  input: Schema.Struct({
    name: TaskName,
    stream: Schema.optionalKey(Schema.Literals(["stdout", "stderr", "all"]).annotate({
      description: "Which stream. Default \"all\"."
    })),
    tail: Schema.optionalKey(NonNegativeInt.annotate({ description: "Only the last N lines. Example: 20." })),
    since: Schema.optionalKey(NonNegativeInt.annotate({
      description: "A cursor (nextCursor of an earlier answer): only lines after it. 0 reads from the start."
    })),
    grep: Schema.optionalKey(Pattern.annotate({ description: "Only lines matching this regex. Example: \"error|warn\"." })),
    raw: Schema.optionalKey(Schema.Boolean.annotate({
      description: "Keep ANSI colour codes and carriage-return redraws. Default false: clean text."
    })),
    maxBytes: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0)).annotate({
      description: "Most text in one answer. Default 32768."
    }))
  }),
  output: Schema.Struct({
    lines: Schema.Array(OutputLine),
    nextCursor: Schema.Int,
    dropped: Schema.Int.annotate({ description: "Lines that were dropped from the buffer before they were read." }),
    truncated: Schema.Boolean.annotate({ description: "More lines matched than fit in one answer." })
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  run: ({ grep, name, ...options }) =>
    withRegistry((r) =>
      Effect.flatMap(grep === undefined ? Effect.succeed(undefined) : asPattern("grep", grep), (compiled) =>
        r.read(name, { ...options, grep: compiled }))
    ),
  text: (o) => {
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
  description:
    "Write text to a running task's stdin, for interactive programs and REPLs. Include \"\\n\" to press Enter. " +
    "eof: true closes stdin afterwards (like Ctrl-D).",
  input: Schema.Struct({
    name: TaskName,
    data: Schema.String.annotate({ description: "Text to write. Example: \"yes\\n\"." }),
    eof: Schema.optionalKey(Schema.Boolean.annotate({ description: "Close stdin after writing. Default false." }))
  }),
  output: Schema.Struct({ name: Schema.String, bytes: Schema.Int }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  run: ({ data, eof, name }) =>
    withRegistry((r) => Effect.map(r.send(name, data, eof ?? false), (bytes) => ({ name, bytes }))),
  text: (o) => `Wrote ${plural(o.bytes, "byte")} to "${o.name}".`
})

const signalTask = tool({
  name: "signal_task",
  title: "Send a signal to a task",
  description:
    "Send a signal to every process of a running task, like a terminal would: SIGINT for Ctrl-C, SIGHUP to reload, " +
    "SIGSTOP/SIGCONT to pause and resume. To end a task for good, prefer stop_task.",
  input: Schema.Struct({ name: TaskName, signal: SignalName.annotate({ description: "Example: \"SIGINT\"." }) }),
  output: Schema.Struct({ name: Schema.String, status: TaskStatus }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  run: ({ name, signal }) =>
    withRegistry((r) =>
      Effect.map(r.signal(name, signal), (e) => ({ name: e.name, status: e.status }))),
  text: (o) => `Signal sent; task "${o.name}" is ${o.status}.`
})

const removeTask = tool({
  name: "remove_task",
  title: "Remove a task",
  description: "Stop a task if it is running, then forget it and its output. Its name becomes free. " +
    "Its log files on disk stay unless deleteLog is true.",
  input: Schema.Struct({
    name: TaskName,
    deleteLog: Schema.optionalKey(Schema.Boolean.annotate({ description: "Also delete its log files. Default false." }))
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
