/**
 * Each task's output as an MCP resource, `task://NAME/output`: listed, read as clean
 * text, and subscribable (`resources/subscribe` in 2025, `subscriptions/listen` in 2026-07-28,
 * both through `watch`). A subscribed task's new output sends `resources/updated`, at
 * most a few times a second however chatty the task is. For clients that render MCP Apps,
 * also the task page as an app, `ui://taskmux/tasks`.
 */
import { Effect, Exit, Scope } from "effect"
import * as fs from "node:fs/promises"
import * as NodePath from "node:path"
import { describeEnd } from "../domain/Task.ts"
import { TaskRegistry } from "../supervisor/TaskRegistry.ts"
import { builtUiDir } from "../web/builtUi.ts"
import { type McpSession, type Params, stringParam } from "./McpSession.ts"
import { ErrorCode, protocolError } from "./protocolError.ts"
import { APP_MIME_TYPE, rendersApps } from "./revisions.ts"

/** The shortest gap between two `resources/updated` for one task. */
export const UPDATE_EVERY_MS = 250
const READ_TAIL = 200

/** The task page as an MCP App, for clients that render apps (linked from list_tasks and get_task). */
export const APP_URI = "ui://taskmux/tasks"
const APP_RESOURCE = {
  uri: APP_URI,
  name: "taskmux-tasks",
  title: "taskmux tasks",
  description: "The project's tasks, live: status, output, and stop, restart and signal buttons.",
  mimeType: APP_MIME_TYPE
}
/** It reaches nothing on its own: every call goes through the host to taskmux's tools. */
const APP_META = { ui: { csp: { connectDomains: [], resourceDomains: [] }, prefersBorder: true } }

/** The app's single HTML file, built with the page (dist/ui/app.html), read when first asked for. */
let appFile: Promise<string> | undefined
const appHtml = () =>
  appFile ??= (async () => {
    const dir = builtUiDir()
    const text = dir === undefined
      ? undefined
      : await fs.readFile(NodePath.join(dir, "app.html"), "utf8").catch(() => undefined)
    if (text !== undefined) return text
    appFile = undefined
    throw protocolError(ErrorCode.InternalError, `${APP_URI} is not built: run npm run build.`)
  })()

export const outputUri = (name: string) => `task://${encodeURIComponent(name)}/output`

const nameOf = (uri: string): string | undefined => {
  const match = /^task:\/\/([^/]+)\/output$/.exec(uri)
  return match ? decodeURIComponent(match[1]!) : undefined
}

const notFound = (uri: string, known: ReadonlyArray<string>) =>
  protocolError(
    ErrorCode.ResourceNotFound,
    `Resource ${uri} not found. Task output resources are task://NAME/output; known tasks: ${
      known.join(", ") || "none"
    }.`,
    { uri }
  )

/** Registers the resource handlers; subscriptions end with the enclosing scope. */
export const registerResources = Effect.fnUntraced(function*(session: McpSession) {
  const registry = yield* TaskRegistry
  const context = yield* Effect.context<never>()
  const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromiseWith(context)(effect)
  const scope = yield* Effect.scope
  // The watch as a promise, set before it settles: two subscribes in one read share one watch.
  const subscriptions = new Map<string, Promise<() => Promise<void>>>()

  const knownNames = () => run(Effect.map(registry.list, (tasks) => tasks.map((t) => t.name)))

  const uriOf = (method: string, params: Params | undefined) => stringParam(method, params, "uri", "task://NAME/output")

  session.handle("resources/templates/list", () => ({
    resourceTemplates: [{
      uriTemplate: "task://{name}/output",
      name: "task-output",
      title: "Task output",
      description: "The recent output of a task, as clean text (the last 200 lines).",
      mimeType: "text/plain"
    }]
  }))

  session.handle("resources/list", async (_, request) => ({
    resources: [
      ...(await run(registry.list)).map((task) => ({
        uri: outputUri(task.name),
        name: task.name,
        title: `Output of ${task.name}`,
        description: `${task.command} (${describeEnd(task.status, task.exitCode, task.signal)})`,
        mimeType: "text/plain"
      })),
      ...(rendersApps(request.capabilities) ? [APP_RESOURCE] : [])
    ]
  }))

  session.handle("resources/read", async (params) => {
    const uri = uriOf("resources/read", params)
    if (uri === APP_URI) return { contents: [{ ...APP_RESOURCE, text: await appHtml(), _meta: APP_META }] }
    const name = nameOf(uri)
    const page = name === undefined
      ? undefined
      : await run(Effect.option(registry.read(name, { tail: READ_TAIL, shown: false })))
    if (page === undefined || page._tag === "None") throw notFound(uri, await knownNames())
    // Stderr marked "! ", as read_output's text marks it.
    const text = page.value.lines.map((l) => `${l.stream === "stderr" ? "! " : ""}${l.text}`).join("\n")
    return { contents: [{ uri, mimeType: "text/plain", text }] }
  })

  /**
   * Calls `updated` when the output of the task `uri` names changes, at most a few times a second,
   * until the returned close; -32002 for a uri that names no task, unless `untaken` (watched from the
   * first start under that name).
   */
  const watch = async (
    uri: string,
    updated: () => void,
    { untaken = false }: { readonly untaken?: boolean } = {}
  ): Promise<() => Promise<void>> => {
    const name = nameOf(uri)
    const subscription = await run(Scope.fork(scope))
    // The first change after a quiet spell is said at once (once the output that came with it is in);
    // changes within the next UPDATE_EVERY_MS are said together at its end, so a flood is a few a second.
    let timer: ReturnType<typeof setTimeout> | undefined
    let pending = false
    let closed = false
    const window = () => {
      timer = setTimeout(() => {
        timer = undefined
        if (!pending) return
        pending = false
        updated()
        window()
      }, UPDATE_EVERY_MS)
    }
    const changed = () => {
      if (timer !== undefined) {
        pending = true
        return
      }
      window()
      // Not said once the subscription has ended in the meantime.
      setImmediate(() => closed || updated())
    }
    const watched = name === undefined
      ? Exit.fail(undefined)
      : await run(Effect.exit(registry.watch(name, changed, { untaken }).pipe(Scope.provide(subscription))))
    if (Exit.isFailure(watched)) {
      await run(Scope.close(subscription, Exit.void))
      throw notFound(uri, await knownNames())
    }
    await run(Scope.addFinalizer(
      subscription,
      Effect.sync(() => {
        closed = true
        clearTimeout(timer)
      })
    ))
    return () => run(Scope.close(subscription, Exit.void))
  }

  // 2025-era subscriptions, one per uri for the session (2026-07-28 subscribes with subscriptions/listen).
  session.handle("resources/subscribe", async (params) => {
    const uri = uriOf("resources/subscribe", params)
    let watching = subscriptions.get(uri)
    if (watching === undefined) {
      const made = watch(uri, () => session.notify("notifications/resources/updated", { uri }))
      subscriptions.set(uri, made)
      // A uri that names no task is not kept (its error is the answer).
      made.catch(() => subscriptions.get(uri) === made && subscriptions.delete(uri))
      watching = made
    }
    await watching
    return {}
  })

  session.handle("resources/unsubscribe", async (params) => {
    const uri = uriOf("resources/unsubscribe", params)
    const watching = subscriptions.get(uri)
    subscriptions.delete(uri)
    const close = await watching?.catch(() => undefined)
    await close?.()
    return {}
  })

  return { watch }
})
