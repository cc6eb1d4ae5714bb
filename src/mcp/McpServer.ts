/**
 * The MCP protocol endpoint as a Layer: a session (`McpSession`) over stdio, the tool table
 * (whose Effect Schemas are the source of truth for their JSON Schemas), task output
 * resources, and task events as notifications. `closed` completes when the client goes
 * away, which ends the program. `serveSession` serves one session over any transport: the
 * supervisor's socket and `/mcp` use it.
 */
import { Context, Deferred, Effect, Layer, PubSub } from "effect"
import { compactErrorLine } from "../domain/Task.ts"
import { Notifier, type TaskEvent } from "../supervisor/Notifier.ts"
import { type Caller, makeViewer, Viewer, type ViewerShape } from "../supervisor/Viewer.ts"
import { banner } from "./banner.ts"
import { isObject, quoteValue } from "./json.ts"
import { McpSession } from "./McpSession.ts"
import { registerPrompts } from "./Prompts.ts"
import { invalidParams } from "./protocolError.ts"
import { modernView } from "./ProtocolTasks.ts"
import { registerResources } from "./Resources.ts"
import { SUBSCRIPTION_ID_META, TASKS_EXTENSION } from "./revisions.ts"
import { DRAIN_MS, StdioTransport } from "./StdioTransport.ts"
import type { ToolEnv } from "./Tool.ts"
import { registerTools } from "./ToolCalls.ts"

const instructions =
  "taskmux runs commands in the background and keeps their output. Typical flow: start_task (for a server, " +
  "pass waitFor with its ready line or port; for a build or tests, waitFor: {exit: true}), read_output (pass " +
  "since=nextCursor to get only new lines) or wait_for_task, send_input for interactive programs, stop_task to " +
  "end the task and all its child processes. list_tasks also shows the project's own tasks (status defined): " +
  "start_task with just their name starts them after their dependencies. Finished tasks keep their output and " +
  "exit code until remove_task."

/** What a 2026-07-28 listen may ask to hear, under its params.notifications. */
const LISTEN_KEYS = ["resourcesListChanged", "resourceSubscriptions", "taskIds"] as const

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
        const onGone = () => Deferred.doneUnsafe(closed, Effect.void)
        // A client closes our stdin to say goodbye (the calls it sent before are answered first, briefly),
        // or stops reading our stdout: either ends the server.
        let served: McpSession | undefined
        const onEnd = () => void (served?.settled(DRAIN_MS) ?? Promise.resolve()).then(onGone)
        yield* Effect.acquireRelease(
          Effect.sync(() => {
            process.stdin.on("end", onEnd).on("close", onEnd)
            process.stdout.on("error", onGone)
          }),
          () =>
            Effect.sync(() => {
              process.stdin.off("end", onEnd).off("close", onEnd)
              process.stdout.off("error", onGone)
            })
        )
        // A front said it already (a note means a front fell back to this).
        if (process.stdin.isTTY && note === undefined) process.stderr.write(banner())
        yield* serveSession(new StdioTransport(), note, (session) => {
          served = session
        })
        return McpServer.of({ closed: Deferred.await(closed) })
      })
    )
}

/** A listen's task outputs at most (each name, taken or not, is watched while it is open). */
const MAX_URIS = 256

/** What taskmux offers a 2025-era session (in its initialize) and a 2026-07-28 client (server/discover). */
const CAPABILITIES = { tools: {}, prompts: {}, resources: { subscribe: true, listChanged: true } }
const LEGACY_CAPABILITIES = {
  ...CAPABILITIES,
  logging: {},
  tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } }
}
// No logging: a 2026-07-28 notification belongs to a request, and taskmux's log messages (a task's end)
// belong to none; such a client hears an end on a subscriptions/listen of the task's output, or in a wait.
const MODERN_CAPABILITIES = { ...CAPABILITIES, extensions: { [TASKS_EXTENSION]: {} } }

/**
 * What a session needs of its transport: each JSON value received goes to `onmessage`; `send` frames
 * one message (its result is ignored: a transport reports its own failures). StdioTransport is one; the
 * web listener's MCP over HTTP (web/McpHttp.ts) has its own.
 */
export interface SessionTransport {
  onmessage?: (json: unknown) => void
  send(message: object): unknown
  start(): void
  close(): void
}

/** A 2026-07-28 client's open subscriptions/listen: what it asked to hear, by its request's id. */
interface Listen {
  readonly meta: Record<string, unknown>
  readonly resourcesListChanged: boolean
  readonly taskIds: ReadonlySet<string>
}

/**
 * One client's MCP session over a transport, for the life of the scope: its tools, resources, prompts
 * and notifications, all answered as this session (its own cursors, its own tasks); the registry and
 * the notifier are shared with every other session of the supervisor.
 */
export const serveSession = Effect.fnUntraced(function*(
  transport: SessionTransport,
  note?: string,
  /** Methods of the supervisor's own, beside MCP's (the CLI's `taskmux/ui`). */
  extend?: (session: McpSession) => void,
  /** The session's front or CLI: its environment (what its tasks inherit) and where it runs. */
  caller?: Caller
) {
  const session: McpSession = new McpSession((message) => void transport.send(message), {
    capabilities: LEGACY_CAPABILITIES,
    modernCapabilities: MODERN_CAPABILITIES,
    instructions: note === undefined ? instructions : `${note}\n\n${instructions}`
  })
  const viewer = makeViewer(() => session.clientName, caller)
  const context = Context.add(yield* Effect.context<ToolEnv>(), Viewer, viewer)
  const listens = new Set<Listen>()
  const protocolTasks = registerTools(session, context, viewer, (task) => {
    for (const listen of listens) {
      if (listen.taskIds.has(task.taskId)) {
        session.notify("notifications/tasks", { ...modernView(task, true), _meta: listen.meta })
      }
    }
  })
  yield* Effect.addFinalizer(() => Effect.sync(() => protocolTasks.close()))
  const resources = yield* registerResources(session).pipe(Effect.provideService(Viewer, viewer))
  registerPrompts(session)
  extend?.(session)

  // 2026-07-28: notifications come only on a subscription the client opened, until it cancels it.
  session.handle("subscriptions/listen", async (params, request) => {
    const asked = params?.notifications ?? {}
    // What to hear, given beside `notifications` rather than in it, would be a listen that hears nothing.
    const misplaced = LISTEN_KEYS.filter((key) => isObject(params) && key in params)
    if (params?.notifications === undefined && misplaced.length > 0) {
      throw invalidParams(
        `Invalid params for subscriptions/listen: ${misplaced.join(", ")} go in params.notifications, ` +
          `e.g. {"notifications": {"resourceSubscriptions": ["task://NAME/output"]}}; nothing was opened.`
      )
    }
    if (!isObject(asked)) {
      throw invalidParams(
        `Invalid params for subscriptions/listen: params.notifications must be an object such as ` +
          `{"resourcesListChanged": true, "resourceSubscriptions": ["task://NAME/output"]}, got ${quoteValue(asked)}.`
      )
    }
    const meta = { [SUBSCRIPTION_ID_META]: request.id }
    const closers: Array<() => Promise<void>> = []
    const uris: Array<string> = []
    for (const uri of Array.isArray(asked.resourceSubscriptions) ? asked.resourceSubscriptions : []) {
      if (typeof uri !== "string" || uris.includes(uri)) continue
      // A task's name no task has yet is heard from its start (listen, then start: the order that misses
      // nothing), up to MAX_URIS a listen; past them, or a uri that is no task's, it is left out of the
      // acknowledgement: it will not be heard.
      if (uris.length === MAX_URIS) break
      const close = await resources.watch(
        uri,
        () => session.notify("notifications/resources/updated", { uri, _meta: meta }),
        { untaken: true }
      ).catch(() => undefined)
      if (close === undefined) continue
      closers.push(close)
      uris.push(uri)
    }
    const taskIds = new Set<string>()
    if (request.modern?.tasks === true && Array.isArray(asked.taskIds)) {
      for (const id of asked.taskIds) if (typeof id === "string" && protocolTasks.has(id)) taskIds.add(id)
    }
    // Cancelled while its watches were set up (the same write, a client that changed its mind): its
    // abort has fired already, and no listener added now would hear it.
    if (request.signal.aborted) {
      await Promise.all(closers.map((close) => close()))
      return {}
    }
    const listen: Listen = { meta, resourcesListChanged: asked.resourcesListChanged === true, taskIds }
    listens.add(listen)
    session.notify("notifications/subscriptions/acknowledged", {
      _meta: meta,
      notifications: {
        ...(listen.resourcesListChanged && { resourcesListChanged: true }),
        ...(uris.length > 0 && { resourceSubscriptions: uris }),
        ...(taskIds.size > 0 && { taskIds: [...taskIds] })
      }
    })
    // Open until the client cancels it (or goes away); a cancelled request is not answered.
    await new Promise((resolve) => request.signal.addEventListener("abort", resolve, { once: true }))
    listens.delete(listen)
    await Promise.all(closers.map((close) => close()))
    return {}
  })

  // Subscribe before reading stdin, so no event can slip past.
  const events = yield* (yield* Notifier).subscribe
  yield* PubSub.take(events).pipe(
    Effect.flatMap((event) => Effect.sync(() => announce(session, viewer, listens, event))),
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

/**
 * A task event as the client hears it: every session hears every end, but one its owner asked to keep
 * quiet. A 2026-07-28 client hears only what it subscribed to (the session drops its log messages).
 */
const announce = (session: McpSession, viewer: ViewerShape, listens: ReadonlySet<Listen>, event: TaskEvent): void => {
  switch (event._tag) {
    case "TaskExit": {
      if (quietFor(viewer, event)) return
      const { _tag, errorLines, quiet, session: _, ...fields } = event
      // An end that was asked for, or a clean exit, is news; an unexpected one is a warning, as is a
      // server its main process left running (`cmd &`), which ended with it.
      return session.log(event.status === "crashed" || event.leftRunning !== undefined ? "warning" : "info", {
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
      if (session.greeted) session.notify("notifications/resources/list_changed", {})
      for (const listen of listens) {
        if (listen.resourcesListChanged) session.notify("notifications/resources/list_changed", { _meta: listen.meta })
      }
  }
}
