/**
 * The tool table: for each tool its name, description, annotations, input and output
 * Schemas (the single source of truth: the JSON Schema clients see is derived from
 * them, and arguments are decoded with them), its handler and its short text answer.
 */
import type { CallToolResult, Tool as McpTool } from "@modelcontextprotocol/sdk/types.js"
import { Cause, Effect, Exit, Schema } from "effect"
import { formatSchemaError, InvalidArguments } from "../domain/errors.ts"
import { SignalName } from "../domain/Signals.ts"
import { describeEnd, OutputLine, TaskInfo, TaskStatus, TaskSummary } from "../domain/Task.ts"
import { TaskRegistry } from "../tasks/TaskRegistry.ts"

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

// ---------------------------------------------------------------------------------------
// The table

interface ToolSpec<I, O> {
  readonly name: string
  readonly title: string
  readonly description: string
  readonly input: Schema.Codec<I, unknown>
  readonly output: Schema.Codec<O, unknown>
  readonly annotations: { readonly readOnlyHint: boolean; readonly destructiveHint: boolean; readonly idempotentHint: boolean }
  readonly run: (input: I) => Effect.Effect<O, { readonly message: string }, TaskRegistry>
  /** The human-readable answer: short, and not a copy of the structured content. */
  readonly text: (output: O) => string
}

export interface Tool {
  readonly definition: McpTool
  readonly call: (args: unknown) => Effect.Effect<CallToolResult, never, TaskRegistry>
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
    call: (args) =>
      Effect.suspend(() => {
        const input = decode(args ?? {}, { errors: "all", onExcessProperty: "error" })
        if (Exit.isFailure(input)) {
          const issue = formatSchemaError(Cause.squash(input.cause) as Schema.SchemaError)
          return Effect.succeed(errorResult(new InvalidArguments({ tool: spec.name, issue })))
        }
        return spec.run(input.value).pipe(
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
  lines.map((l) => `${l.stream === "stderr" ? "! " : ""}${l.text}`).join("\n")

// ---------------------------------------------------------------------------------------

const startTask = tool({
  name: "start_task",
  title: "Start a background task",
  description:
    "Start a long-running command in the background (dev server, build, watcher, REPL) and return at once. " +
    "Read its output with read_output, type into it with send_input, end it with stop_task. " +
    "Without args, `command` is a shell line run by /bin/sh -c; with args, `command` is executed directly.",
  input: Schema.Struct({
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
    }))
  }),
  output: StartedOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  run: (input) => withRegistry((r) => r.start(input)),
  text: (o) => `Started task "${o.name}" (pid ${o.pid}).`
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
    }))
  }),
  output: Schema.Struct({
    lines: Schema.Array(OutputLine),
    nextCursor: Schema.Int,
    dropped: Schema.Int.annotate({ description: "Lines that were dropped from the buffer before they were read." }),
    truncated: Schema.Boolean.annotate({ description: "More lines matched than fit in one answer." })
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  run: ({ name, ...options }) => withRegistry((r) => r.read(name, options)),
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
  description: "Stop a task if it is running, then forget it and its output. Its name becomes free.",
  input: NameOnly,
  output: Schema.Struct({ name: Schema.String, removed: Schema.Literal(true) }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  run: ({ name }) =>
    withRegistry((r) => Effect.as(r.remove(name), { name, removed: true as const })),
  text: (o) => `Removed task "${o.name}".`
})

export const tools: ReadonlyArray<Tool> = [
  startTask,
  stopTask,
  restartTask,
  listTasks,
  getTask,
  readOutput,
  sendInput,
  signalTask,
  removeTask
]
