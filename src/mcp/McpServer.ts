/**
 * The MCP protocol endpoint as a Layer: a session (`McpSession`) over stdio, the tool table
 * (whose Effect Schemas are the source of truth for their JSON Schemas), task output
 * resources, and task events as notifications. `closed` completes when the client goes
 * away, which ends the program.
 */
import { Context, Deferred, Effect, Layer, PubSub } from "effect"
import { compactErrorLine } from "../domain/Task.ts"
import { Notifier, type TaskEvent } from "../supervisor/Notifier.ts"
import { makeViewer, Viewer, type ViewerShape } from "../supervisor/Viewer.ts"
import { banner } from "./banner.ts"
import { isObject, McpSession, type Params } from "./McpSession.ts"
import { registerPrompts } from "./Prompts.ts"
import { invalidParams } from "./protocolError.ts"
import { registerResources } from "./Resources.ts"
import { StdioTransport } from "./StdioTransport.ts"
import type { Tool, ToolContext, ToolEnv } from "./Tool.ts"
import { tools } from "./toolTable.ts"

const instructions =
  "taskmux runs commands in the background and keeps their output. Typical flow: start_task (for a server, " +
  "pass waitFor with its ready line or port; for a build or tests, waitFor: {exit: true}), read_output (pass " +
  "since=nextCursor to get only new lines) or wait_for_task, send_input for interactive programs, stop_task to " +
  "end the task and all its child processes. list_tasks also shows the project's own tasks (status defined): " +
  "start_task with just their name starts them after their dependencies. Finished tasks keep their output and " +
  "exit code until remove_task."

export class McpServer extends Context.Service<McpServer, {
  /** Completes when the client disconnects (stdin closed, or the transport closed). */
  readonly closed: Effect.Effect<void>
}>()("taskmux/McpServer") {
  /** Serves over this process's stdin and stdout; `note` goes first in the instructions. */
  static readonly layerStdio = (note?: string): Layer.Layer<McpServer, never, ToolEnv | Notifier> =>
    Layer.effect(
      McpServer,
      Effect.gen(function*() {
        const closed = yield* Deferred.make<void>()
        const onEnd = () => Deferred.doneUnsafe(closed, Effect.void)
        // A client closes our stdin to say goodbye: that, or a stdout nobody reads any more, ends the server.
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
        // A front said it already (a note means a front fell back to this).
        if (process.stdin.isTTY && note === undefined) process.stderr.write(banner())
        yield* serveSession(new StdioTransport(), note)
        return McpServer.of({ closed: Deferred.await(closed) })
      })
    )
}

const toolsByName = new Map(tools.map((tool) => [tool.name, tool]))

const toolNames = [...toolsByName.keys()].join(", ")

/** A tools/call's params, or -32602 with one sentence on what is wrong and what would be right. */
const checkCall = (params: Params | undefined) => {
  if (params === undefined) {
    throw invalidParams(`tools/call needs params: an object such as {"name": "list_tasks", "arguments": {}}.`)
  }
  const { arguments: args, name } = params
  if (typeof name !== "string") {
    throw invalidParams(`tools/call needs params.name, the name of a tool (a string): one of ${toolNames}.`)
  }
  const tool = toolsByName.get(name)
  if (tool === undefined) {
    throw invalidParams(`Unknown tool ${JSON.stringify(name)}. Available tools: ${toolNames}.`)
  }
  if (args !== undefined && !isObject(args)) {
    throw invalidParams(
      `tools/call params.arguments must be an object of ${name}'s fields, got ${
        Array.isArray(args) ? "an array" : args === null ? "null" : `a ${typeof args}`
      }.`
    )
  }
  return { tool, arguments: args }
}

/**
 * One client's MCP session over a transport, for the life of the scope: its tools, resources, prompts
 * and notifications, all answered as this session (its own cursors, its own tasks); the registry and
 * the notifier are shared with every other session of the supervisor.
 */
export const serveSession = Effect.fnUntraced(function*(transport: StdioTransport, note?: string) {
  const session: McpSession = new McpSession((message) => void transport.send(message), {
    capabilities: { tools: {}, logging: {}, prompts: {}, resources: { subscribe: true, listChanged: true } },
    instructions: note === undefined ? instructions : `${note}\n\n${instructions}`
  })
  const viewer = makeViewer(() => session.clientName)
  const context = Context.add(yield* Effect.context<ToolEnv>(), Viewer, viewer)
  const run = Effect.runPromiseWith(context)
  // Built on the first tools/list, not at start-up.
  let definitions: ReadonlyArray<Tool["definition"]> | undefined
  session.handle("tools/list", () => ({ tools: definitions ??= tools.map((tool) => tool.definition) }))
  session.handle("tools/call", (params, request) => {
    const { arguments: args, tool } = checkCall(params)
    const progressToken = request.progressToken
    const toolContext: ToolContext = {
      progress: progressToken === undefined ?
        undefined :
        (progress, total, message) =>
          Effect.sync(() => session.notify("notifications/progress", { progressToken, progress, total, message }))
    }
    // Cancellation from the client interrupts the call's fiber.
    return run(tool.call(args, toolContext), { signal: request.signal })
  })
  yield* registerResources(session).pipe(Effect.provideService(Viewer, viewer))
  registerPrompts(session)

  // Subscribe before reading stdin, so no event can slip past.
  const events = yield* (yield* Notifier).subscribe
  yield* PubSub.take(events).pipe(
    Effect.flatMap((event) => Effect.sync(() => announce(session, viewer, event))),
    Effect.forever,
    Effect.forkScoped
  )

  transport.onmessage = (message) => session.receive(message)
  yield* Effect.acquireRelease(
    Effect.sync(() => transport.start()),
    () =>
      Effect.sync(() => {
        transport.close()
        session.close()
      })
  )
  return viewer
})

/** `notifyOnExit: false` silences its owner's session (everyone's, for a kept task, which has no owner). */
const quietFor = (viewer: ViewerShape, event: { readonly quiet: boolean; readonly session: string | null }) =>
  event.quiet && (event.session === null || event.session === viewer.id)

/** A task event as the client hears it: every session hears every end, but one its owner asked to keep quiet. */
const announce = (session: McpSession, viewer: ViewerShape, event: TaskEvent): void => {
  switch (event._tag) {
    case "TaskExit": {
      if (quietFor(viewer, event)) return
      const { _tag, errorLines, quiet, session: _, ...fields } = event
      // An end that was asked for, or a clean exit, is news; an unexpected one is a warning.
      return session.log(event.status === "crashed" ? "warning" : "info", {
        event: "task_exit",
        ...fields,
        errorLines: errorLines.map(compactErrorLine)
      })
    }
    case "TaskGaveUp":
      if (quietFor(viewer, event)) return
      return session.log("error", { event: "task_gave_up", name: event.name, reason: event.reason })
    case "TaskAdded":
    case "TaskRemoved":
      return session.notify("notifications/resources/list_changed", {})
  }
}
