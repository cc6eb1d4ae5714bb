/**
 * The tool framework: a tool is its name, description, annotations, input and output Schemas (the
 * single source of truth: the JSON Schema clients see is derived from them, and arguments are
 * decoded with them), its handler and its short text answer. The tools themselves are in tools/.
 */
import type { CallToolResult, Tool as McpTool } from "@modelcontextprotocol/sdk/types.js"
import { Cause, Effect, Exit, References, Schema } from "effect"
import type { TaskmuxConfig } from "../Config.ts"
import { hasEnded } from "../daemon/lostRecord.ts"
import { LostTasks } from "../daemon/LostTasks.ts"
import { formatSchemaError, notAField } from "../domain/argumentIssues.ts"
import { clipText } from "../domain/clipText.ts"
import {
  InvalidArguments,
  ProjectTaskNotRun,
  TaskLeftBySupervisor,
  TaskNotFound,
  TaskWasRemoved,
  TaskWentWithSession
} from "../domain/errors.ts"
import { cleanLastLines } from "../output/fileTail.ts"
import type { ChainClaims } from "../project/ChainClaims.ts"
import { Project } from "../project/Project.ts"
import type { ProjectTask } from "../project/ProjectFile.ts"
import { commandLine } from "../supervisor/startPolicy.ts"
import { logStopsShort, TaskRegistry } from "../supervisor/TaskRegistry.ts"
import { Viewer } from "../supervisor/Viewer.ts"
import { ERROR_META, LOG_FILE_META } from "./errorMeta.ts"

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
    /** It runs what it is given (a shell line, keys typed into a shell), which may reach anything. */
    readonly openWorldHint?: true
  }
  readonly run: (input: I, context: ToolContext) => Effect.Effect<O, { readonly message: string }, ToolEnv>
  /** It can wait (for readiness, an end, a grace period): a client may run it as a protocol task. */
  readonly canWait?: true
  /** The human-readable answer: short, and not a copy of the structured content. */
  readonly text: (output: O, input: I) => string
}

/** What the tools run with: the tasks, those a dead supervisor lost, the project's task file, the options. */
export type ToolEnv = TaskRegistry | LostTasks | Project | ChainClaims | TaskmuxConfig

/** What a call knows of its request: where to send progress, when the client asked for it. */
export interface ToolContext {
  readonly progress?: ((progress: number, total: number, message: string) => Effect.Effect<void>) | undefined
  /**
   * Asked when the call is interrupted: whether a run (start_task waiting for the end) stops too. Only
   * when the client cancelled the protocol task it runs as; any other interruption ends only the wait.
   */
  readonly cancelStopsRun?: () => boolean
}

export interface Tool {
  readonly name: string
  readonly canWait: boolean
  /** As tools/list gives it to a 2025-era client (2026-07-28 has no `execution`: see modernDefinition). */
  readonly definition: McpTool
  readonly call: (args: unknown, context: ToolContext) => Effect.Effect<CallToolResult, never, ToolEnv>
}

export const tool = <I, O>(spec: ToolSpec<I, O>): Tool => {
  const decode = Schema.decodeUnknownExit(spec.input)
  // Schema lets any object through a struct of no fields: a tool that takes none says so.
  const takesNone = spec.input.ast._tag === "Objects" && spec.input.ast.propertySignatures.length === 0 &&
    spec.input.ast.indexSignatures.length === 0
  // Made once: a span wrapper made per call would capture a stack trace per call.
  const span = Effect.withSpan(`tool.${spec.name}`)
  // With tracing off (the default) no span at all: even a no-op one makes a new fiber context.
  const traced = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.flatMap(Effect.service(References.TracerEnabled), (enabled) => enabled ? span(effect) : effect)
  let definition: McpTool | undefined
  return {
    name: spec.name,
    canWait: spec.canWait === true,
    // Built on the first tools/list, not at start-up.
    get definition() {
      return definition ??= {
        name: spec.name,
        title: spec.title,
        description: spec.description,
        inputSchema: jsonSchema(spec.input, "input") as McpTool["inputSchema"],
        outputSchema: jsonSchema(spec.output, "output") as McpTool["outputSchema"],
        ...annotationsOf(spec.annotations),
        ...(spec.canWait && { execution: { taskSupport: "optional" } })
      }
    },
    call: (args, context) =>
      Effect.suspend(() => {
        const input = decode(args ?? {}, { errors: "all", onExcessProperty: "error" })
        if (Exit.isFailure(input)) {
          const issue = formatSchemaError(Cause.squash(input.cause) as Schema.SchemaError, args, spec.name)
          return Effect.succeed(errorResult(new InvalidArguments({ tool: spec.name, issue })))
        }
        const extra = takesNone && typeof args === "object" && args !== null ? Object.keys(args) : []
        if (extra.length > 0) {
          const issue = extra.map((key) => `${key}: ${notAField(key, [], spec.name)}`).join("; ")
          return Effect.succeed(errorResult(new InvalidArguments({ tool: spec.name, issue })))
        }
        // Which task, in the trace: `tool.stop_task 25.6ms ok task=web`.
        const task = (input.value as { readonly name?: unknown }).name
        return spec.run(input.value, context).pipe(
          (run) => typeof task === "string" ? Effect.andThen(Effect.annotateCurrentSpan("task", task), run) : run,
          traced,
          Effect.map((output): CallToolResult => ({
            content: [{ type: "text", text: spec.text(output, input.value) }],
            structuredContent: output as Record<string, unknown>
          })),
          Effect.catch((error) => Effect.map(explainUnknown(error), errorResult))
        )
      })
  }
}

/** MCP's defaults for the hints a tool leaves out: a client reads a missing hint as these. */
export const HINT_DEFAULTS = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true }

/**
 * Only the hints that differ from MCP's defaults, since every conversation carries them; destructiveHint
 * and idempotentHint mean something only for a tool that changes things. A tool that only looks at or
 * ends tasks reaches nothing outside them (openWorldHint false); one that runs a command does.
 */
const annotationsOf = (hints: ToolSpec<unknown, unknown>["annotations"]): Pick<McpTool, "annotations"> => {
  const all = hints.readOnlyHint
    ? { readOnlyHint: true, openWorldHint: false }
    : { ...hints, openWorldHint: hints.openWorldHint === true }
  const annotations = Object.fromEntries(
    Object.entries(all).filter(([key, value]) => HINT_DEFAULTS[key as keyof typeof HINT_DEFAULTS] !== value)
  )
  // None at all where every hint is the default.
  return Object.keys(annotations).length === 0 ? {} : { annotations }
}

/**
 * A name list_tasks shows is not unknown: one a dead supervisor lost, or a project task not run yet.
 * The answer says which, and what runs it.
 */
const explainUnknown = (error: { readonly message: string }) =>
  error instanceof TaskNotFound
    ? Effect.gen(function*() {
      const name = JSON.stringify(error.name)
      const lost = yield* LostTasks
      const task = lost.get(error.name)
      if (task !== undefined) {
        return new TaskLeftBySupervisor({
          name: error.name,
          text: `Task ${name} ${hasEnded(task) ? "ran under the last supervisor:" : "is lost:"} ${task.reason}. ` +
            "restart_task or start_task { name } runs it again with its recorded command; remove_task forgets it." +
            logTail(task.logFile),
          ...(task.logFile !== null && { logFile: task.logFile })
        })
      }
      const project = yield* (yield* Project).current
      const defined = [...project.file?.tasks.keys() ?? []]
      const gone = (yield* TaskRegistry).gone(error.name)
      if (gone !== undefined) {
        return new TaskWentWithSession({
          name: error.name,
          text: `Task ${name} ran under a session that has ended: ${gone.reason}. ` +
            `restart_task or start_task { name: ${name} } runs it again` +
            (defined.includes(error.name) ? ", as the project file says." : ` with its command: ${gone.commandLine}`) +
            logTail(gone.logFile, logStopsShort(gone)),
          ...(gone.logFile !== null && { logFile: gone.logFile })
        })
      }
      const defines = project.file?.tasks.get(error.name)
      const removed = (yield* TaskRegistry).removed(error.name)
      if (removed !== undefined) {
        return new TaskWasRemoved({
          name: error.name,
          text: `Task ${name} was removed by ${removed.by} at ${removed.at}` +
            (removed.logFile === null ? "." : `. Its output: ${removed.logFile}.`) +
            (defines !== undefined
              ? ` It is a project task: start_task { name: ${name} } runs it again after its dependencies.`
              : ` It ran: ${
                JSON.stringify(removed.commandLine)
              }; start_task with a command runs a new task under that name.`) +
            logTail(removed.logFile),
          ...(removed.logFile !== null && { logFile: removed.logFile })
        })
      }
      if (defines !== undefined) {
        return new ProjectTaskNotRun({
          name: error.name,
          // Not run yet, or removed since it ran (remove_task forgets a run): which, the registry no longer knows.
          text: `Task ${name} is a project task that has not run yet, or not since it was removed (list_tasks ` +
            "shows it as defined): " +
            `start_task { name: ${name} } runs it after its dependencies. ${
              definedAs(defines, (yield* Viewer).hidesEnvValues === true)
            }`
        })
      }
      // Every name list_tasks shows: the lost and the defined too.
      const known = [...new Set([...error.known, ...lost.list().map((t) => t.name), ...defined])]
      // A project file that cannot be read hides its tasks: the name may be one of them.
      return new TaskNotFound({
        name: error.name,
        known,
        ...(project.error !== undefined && { projectError: project.error.message })
      })
    })
    : Effect.succeed(error)

/**
 * What a project task not run yet would run, as its file gives it: before a start, the assistant and the
 * person see the environment a file adds (a cloned repository's `NODE_OPTIONS=--require …`), not only its
 * command, which is all list_tasks shows.
 */
const definedAs = (task: ProjectTask, hideValues = false) => {
  const env = Object.entries(task.env ?? {}).map(([key, value]) => hideValues ? key : `${key}=${clipText(value, 80)}`)
  const needs = Object.entries(task.dependsOn ?? {}).map(([dependency, condition]) => `${dependency} (${condition})`)
  return `Its file gives: ${JSON.stringify(commandLine(task.command, task.args ?? null))} in ${task.cwd}` +
    (env.length === 0 ? "" : `, env ${env.join(" ")}`) +
    (needs.length === 0 ? "" : `, after ${needs.join(", ")}`) +
    (task.keep === true ? ", kept" : "") + "."
}

/** The last lines of a log file a past supervisor left, for a client that cannot read the file itself. */
const logTail = (logFile: string | null, stopsShort = false) => {
  const lines = cleanLastLines(logFile, LOG_TAIL_LINES)
  // A log that stops short (a full disk) ends where the disk refused it, not where the run ended.
  const heading = stopsShort ? "The last lines its log file has (not its last)" : "Its last lines"
  return lines.length === 0 ? "" : `\n${heading}, from its log file:\n${lines.join("\n")}`
}

const LOG_TAIL_LINES = 10

const errorResult = (error: { readonly message: string; readonly _tag?: string; readonly logFile?: string }) =>
  ({
    content: [{ type: "text" as const, text: error.message }],
    isError: true,
    ...(error._tag !== undefined && {
      _meta: { [ERROR_META]: error._tag, ...(error.logFile !== undefined && { [LOG_FILE_META]: error.logFile }) }
    })
  }) satisfies CallToolResult

/**
 * An input schema is what a client turns into its model's function declaration, and some (Gemini's
 * function declarations, and clients that convert for them: Continue, Zed, the AI SDK before 4.0.43)
 * take only a subset of JSON Schema: every node typed, no map (a schema-valued `additionalProperties`),
 * no `exclusiveMinimum`. An output schema is checked by the client only, so it may be terser.
 */
type Side = "input" | "output"

const jsonSchema = (schema: Schema.Top, side: Side) => {
  const { schema: json } = Schema.toJsonSchemaDocument(schema)
  // An empty Struct is "anything but null" in JSON Schema; MCP wants an object.
  return compact(json.type === "object" ? json : { type: "object", properties: {} }, side)
}

const SAFE_INT = Number.MAX_SAFE_INTEGER

/**
 * The same JSON Schema in fewer bytes, since every client sends tools/list to its model:
 * no safe-integer bounds, no `additionalProperties: true` (the default), `type: ["string",
 * "null"]` for a nullable simple type; descriptions in input schemas only, and there a map is an
 * object (its description says what it holds, and the server checks the values); in output schemas
 * an enum of strings says its type.
 */
const compact = (node: unknown, side: Side): unknown => {
  if (Array.isArray(node)) return node.map((item) => compact(item, side))
  if (typeof node !== "object" || node === null) return node
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) {
    if ((key === "maximum" && value === SAFE_INT) || (key === "minimum" && value === -SAFE_INT)) continue
    if (key === "additionalProperties" && (value === true || side === "input")) continue
    if (key === "description" && side === "output") continue
    out[key] = key === "properties" ? mapValues(value, (v) => compact(v, side)) : compact(value, side)
  }
  if (side === "output" && Array.isArray(out.enum) && out.type === "string") delete out.type
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

export const withRegistry = <A, E, R = never>(f: (registry: TaskRegistry["Service"]) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.service(TaskRegistry), f)

/** Progress for the caller's token, if any: seconds waited (always increasing, as MCP asks) and what happened. */
export const progressOf = (context: ToolContext, timeoutMs: number) => {
  const progress = context.progress
  if (progress === undefined) return undefined
  let last = 0
  return (elapsedMs: number, note: string | undefined) => {
    // Seconds to a tenth, and always more than the last (MCP asks progress to grow): 0.3, not 0.30000000000000004.
    last = Math.max(Math.round(elapsedMs / 100), Math.round(last * 10) + 1) / 10
    return progress(
      last,
      Math.round(timeoutMs / 1000),
      // "waiting 2 s; last line: …", or, where the note says what for, "waiting 2 s for "db" to become ready";
      // in the first half second, no "0 s".
      `waiting${elapsedMs < 500 ? "" : ` ${Math.round(elapsedMs / 1000)} s`}${
        note === undefined ? "" : note.startsWith("for ") ? ` ${note}` : `; ${note}`
      }`
    )
  }
}

/** How often a call that only waits (a stop) says it still does. */
const HEARTBEAT_MS = 2_000

/**
 * `effect` with progress every 2 s while it runs, for a caller that asked for it: a stop that waits out a
 * grace for a tree ignoring SIGTERM would otherwise pass a client's request timeout (60 s in the SDK)
 * in silence, and the client would call it failed while it went on.
 */
export const withHeartbeat = <A, E, R>(
  context: ToolContext,
  timeoutMs: number,
  note: string,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => {
  const send = progressOf(context, timeoutMs)
  if (send === undefined) return effect
  return Effect.suspend(() => {
    const startedAt = performance.now()
    const beat = Effect.forever(
      Effect.andThen(Effect.sleep(HEARTBEAT_MS), Effect.suspend(() => send(performance.now() - startedAt, note)))
    )
    return Effect.raceFirst(effect, beat)
  })
}
