/**
 * The MCP protocol endpoint as a Layer: the SDK's low-level `Server` (which accepts any
 * JSON Schema, so the Effect Schemas stay the source of truth), the tool table, task
 * output resources, task events as notifications, and a transport. `closed` completes
 * when the client goes away, which ends the program.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { Protocol, type RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import { ListToolsRequestSchema, type ServerNotification, type ServerRequest } from "@modelcontextprotocol/sdk/types.js"
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js"
import { Context, Deferred, Effect, Layer, PubSub } from "effect"
import * as z from "zod/v4"
import packageJson from "../../package.json" with { type: "json" }
import { Notifier, type TaskEvent } from "../tasks/Notifier.ts"
import { registerPrompts } from "./Prompts.ts"
import { invalidParams } from "./protocolError.ts"
import { registerResources } from "./Resources.ts"
import { StdioTransport } from "./StdioTransport.ts"
import { type ToolContext, type ToolEnv, tools } from "./Tools.ts"

const instructions =
  "taskmux runs commands in the background and keeps their output. Typical flow: start_task (for a server, " +
  "pass waitFor with its ready line or port; for a build or tests, waitFor: {exit: true}), read_output (pass " +
  "since=nextCursor to get only new lines) or wait_for_task, send_input for interactive programs, stop_task to " +
  "end the task and all its child processes. list_tasks also shows the project's own tasks (status defined): " +
  "start_task with just their name starts them after their dependencies. Finished tasks keep their output and " +
  "exit code until remove_task."

/** For a person who started the server by hand in a terminal: what this is and how to use it. */
const banner = `taskmux ${packageJson.version}: an MCP server. It speaks JSON-RPC on stdin/stdout and is meant to be
started by an MCP client. Add it to one, for example:
  claude mcp add taskmux -- ${process.execPath} ${process.argv[1] ?? "dist/main.js"}
Waiting for a client on stdin (Ctrl-C or Ctrl-D to quit). taskmux --help lists the options.
`

export class McpServer extends Context.Service<McpServer, {
  /** Completes when the client disconnects (stdin closed, or the transport closed). */
  readonly closed: Effect.Effect<void>
}>()("taskmux/McpServer") {
  /** Serves over this process's stdin and stdout. */
  static readonly layerStdio: Layer.Layer<McpServer, never, ToolEnv | Notifier> = Layer.effect(
    McpServer,
    Effect.gen(function*() {
      const closed = yield* Deferred.make<void>()
      const onEnd = () => Deferred.doneUnsafe(closed, Effect.void)
      // The SDK's stdio transport listens for data and errors only: a client that closes our
      // stdin (its way of saying goodbye) would otherwise leave us, and our tasks, running.
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          process.stdin.on("end", onEnd).on("close", onEnd)
          process.stdout.on("error", onEnd)
        }),
        () =>
          Effect.sync(() => {
            process.stdin.off("end", onEnd).off("close", onEnd)
            process.stdout.off("error", onEnd)
          })
      )
      if (process.stdin.isTTY) process.stderr.write(banner)
      yield* serve(new StdioTransport(), closed)
      return McpServer.of({ closed: Deferred.await(closed) })
    })
  )

  /** Serves over a given transport (an in-memory pair in tests). */
  static readonly layerTransport = (transport: Transport): Layer.Layer<McpServer, never, ToolEnv | Notifier> =>
    Layer.effect(
      McpServer,
      Effect.gen(function*() {
        const closed = yield* Deferred.make<void>()
        yield* serve(transport, closed)
        return McpServer.of({ closed: Deferred.await(closed) })
      })
    )
}

/**
 * The SDK's Server, but a request whose params do not fit its method is the client's mistake:
 * -32602 (invalid params) with one sentence saying what is wrong, not -32603 (internal error)
 * with a validator's dump of issues.
 */
class TaskmuxServer extends Server {
  // The SDK's own handlers (initialize, ping, logging/setLevel, ...) are registered through this too.
  override setRequestHandler(...[schema, handler]: Parameters<Server["setRequestHandler"]>): void {
    const method = (schema as unknown as { shape: { method: { value: string } } }).shape.method.value
    registerRaw(this, method, (request, extra) => {
      const parsed = (schema as unknown as z.ZodType).safeParse(request)
      if (!parsed.success) throw invalidParams(paramsProblem(method, parsed.error))
      return (handler as unknown as RawHandler)(parsed.data as Parameters<RawHandler>[0], extra)
    })
  }
}

type RawHandler = (
  request: { readonly method: string; readonly params?: unknown },
  extra: RequestHandlerExtra<ServerRequest, ServerNotification>
) => unknown

/** Registers a handler that gets the request as it came, checked by nothing but its method. */
const registerRaw = (server: Server, method: string, handler: RawHandler) =>
  Protocol.prototype.setRequestHandler.call(
    server,
    z.looseObject({ method: z.literal(method) }) as never,
    handler as never
  )

/** One sentence: "Invalid params for resources/read: params.uri: Invalid input: expected string, received number." */
const paramsProblem = (method: string, error: z.ZodError) => {
  const [issue] = error.issues
  if (issue === undefined) return `Invalid params for ${method}.`
  const where = ["params", ...issue.path.slice(1).map(String)].join(".")
  return `Invalid params for ${method}: ${issue.path.length > 1 ? where : "params"}: ${issue.message}.`
}

/**
 * The SDK's Server validates with JSON Schema only a client's answer to an elicitation, which
 * taskmux never asks for; its default builds an Ajv instance at start-up. The build leaves Ajv
 * out of the bundle altogether (scripts/build.mjs).
 */
const noElicitation: jsonSchemaValidator = {
  getValidator: () => () => ({ valid: false, data: undefined, errorMessage: "taskmux does not ask for input" })
}

const toolsByName = new Map(tools.map((tool) => [tool.name, tool]))

const toolNames = [...toolsByName.keys()].join(", ")

/** A tools/call's params, or -32602 with one sentence on what is wrong and what would be right. */
const checkCall = (params: unknown) => {
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    throw invalidParams(`tools/call needs params: an object such as {"name": "list_tasks", "arguments": {}}.`)
  }
  const { _meta, arguments: args, name } = params as Record<string, unknown>
  if (typeof name !== "string") {
    throw invalidParams(`tools/call needs params.name, the name of a tool (a string): one of ${toolNames}.`)
  }
  const tool = toolsByName.get(name)
  if (tool === undefined) {
    throw invalidParams(`Unknown tool ${JSON.stringify(name)}. Available tools: ${toolNames}.`)
  }
  if (args !== undefined && (typeof args !== "object" || args === null || Array.isArray(args))) {
    throw invalidParams(
      `tools/call params.arguments must be an object of ${name}'s fields, got ${
        Array.isArray(args) ? "an array" : args === null ? "null" : `a ${typeof args}`
      }.`
    )
  }
  const meta = typeof _meta === "object" && _meta !== null ?
    _meta as { readonly progressToken?: string | number } :
    undefined
  return { tool, arguments: args, meta }
}

const serve = Effect.fnUntraced(function*(transport: Transport, closed: Deferred.Deferred<void>) {
  const context = yield* Effect.context<ToolEnv>()
  const run = Effect.runPromiseWith(context)
  const server = new TaskmuxServer(
    { name: "taskmux", title: "taskmux", version: packageJson.version },
    {
      capabilities: { tools: {}, logging: {}, prompts: {}, resources: { subscribe: true, listChanged: true } },
      instructions,
      jsonSchemaValidator: noElicitation
    }
  )
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: tools.map((tool) => tool.definition) }))
  // Checked here, by hand, into sentences: the Server's own tools/call registration parses each request
  // a second time and checks each answer again with zod (and routes task-augmented calls, which taskmux
  // does not advertise); taskmux's answers are built from its Schemas. That second pass was 3-6 µs of a
  // ~40 µs call.
  registerRaw(server, "tools/call", (request, extra) => {
    const { arguments: args, meta, tool } = checkCall(request.params)
    const progressToken = meta?.progressToken
    const toolContext: ToolContext = {
      progress: progressToken === undefined ?
        undefined :
        (progress, total, message) =>
          Effect.promise(() =>
            extra.sendNotification({
              method: "notifications/progress",
              params: { progressToken, progress, total, message }
            })
              .catch(() => {})
          )
    }
    // Cancellation from the client interrupts the call's fiber.
    return run(tool.call(args, toolContext), { signal: extra.signal })
  })
  yield* registerResources(server)
  registerPrompts(server)

  // Subscribe before connecting, so no event can slip past.
  const events = yield* (yield* Notifier).subscribe
  yield* PubSub.take(events).pipe(
    Effect.flatMap((event) => Effect.promise(() => announce(server, event))),
    Effect.forever,
    Effect.forkScoped
  )

  server.onclose = () => Deferred.doneUnsafe(closed, Effect.void)
  yield* Effect.acquireRelease(
    Effect.promise(() => server.connect(transport)),
    () => Effect.promise(() => server.close())
  )
})

/** A task event as the client hears it; a client that went away is not an error. */
const announce = (server: Server, event: TaskEvent): Promise<void> => {
  switch (event._tag) {
    case "TaskExit": {
      if (event.quiet) return Promise.resolve()
      const { _tag, quiet, ...fields } = event
      return server.sendLoggingMessage({
        // An end that was asked for, or a clean exit, is news; an unexpected one is a warning.
        level: event.status === "crashed" ? "warning" : "info",
        logger: "taskmux",
        data: { event: "task_exit", ...fields }
      }).catch(() => {})
    }
    case "TaskGaveUp":
      if (event.quiet) return Promise.resolve()
      return server.sendLoggingMessage({
        level: "error",
        logger: "taskmux",
        data: { event: "task_gave_up", name: event.name, reason: event.reason }
      }).catch(() => {})
    case "TaskAdded":
    case "TaskRemoved":
      return server.sendResourceListChanged().catch(() => {})
  }
}
