/**
 * Each task's output as an MCP resource, `task://NAME/output`: listed, read as clean
 * text, and subscribable. A subscribed task's new output sends `resources/updated`, at
 * most a few times a second however chatty the task is.
 */
import { Effect, Exit, Scope } from "effect"
import { describeEnd } from "../domain/Task.ts"
import { TaskRegistry } from "../supervisor/TaskRegistry.ts"
import { type McpSession, type Params, stringParam } from "./McpSession.ts"
import { ErrorCode, protocolError } from "./protocolError.ts"

/** The shortest gap between two `resources/updated` for one task. */
export const UPDATE_EVERY_MS = 250
const READ_TAIL = 200

export const outputUri = (name: string) => `task://${encodeURIComponent(name)}/output`

const nameOf = (uri: string): string | undefined => {
  const match = /^task:\/\/([^/]+)\/output$/.exec(uri)
  return match ? decodeURIComponent(match[1]!) : undefined
}

const notFound = (uri: string, known: ReadonlyArray<string>) =>
  Object.assign(
    protocolError(
      ErrorCode.ResourceNotFound,
      `Resource ${uri} not found. Task output resources are task://NAME/output; known tasks: ${
        known.join(", ") || "none"
      }.`
    ),
    { data: { uri } }
  )

/** Registers the resource handlers; subscriptions end with the enclosing scope. */
export const registerResources = Effect.fnUntraced(function*(session: McpSession) {
  const registry = yield* TaskRegistry
  const context = yield* Effect.context<never>()
  const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromiseWith(context)(effect)
  const scope = yield* Effect.scope
  const subscriptions = new Map<string, () => Promise<void>>()

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

  session.handle("resources/list", async () => ({
    resources: (await run(registry.list)).map((task) => ({
      uri: outputUri(task.name),
      name: task.name,
      title: `Output of ${task.name}`,
      description: `${task.command} (${describeEnd(task.status, task.exitCode, task.signal)})`,
      mimeType: "text/plain"
    }))
  }))

  session.handle("resources/read", async (params) => {
    const uri = uriOf("resources/read", params)
    const name = nameOf(uri)
    const page = name === undefined ? undefined : await run(Effect.option(registry.read(name, { tail: READ_TAIL })))
    if (page === undefined || page._tag === "None") throw notFound(uri, await knownNames())
    const text = page.value.lines.map((l) => l.text).join("\n")
    return { contents: [{ uri, mimeType: "text/plain", text }] }
  })

  /**
   * Calls `updated` when the output of the task `uri` names changes, at most a few times a second,
   * until the returned close; -32002 for a uri that names no task.
   */
  const watch = async (uri: string, updated: () => void): Promise<() => Promise<void>> => {
    const name = nameOf(uri)
    const subscription = await run(Scope.fork(scope))
    // The first change after a quiet spell is said at once (once the output that came with it is in);
    // changes within the next UPDATE_EVERY_MS are said together at its end, so a flood is a few a second.
    let timer: ReturnType<typeof setTimeout> | undefined
    let pending = false
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
      setImmediate(updated)
    }
    const watched = name === undefined
      ? Exit.fail(undefined)
      : await Effect.runPromiseExit(registry.watch(name, changed).pipe(Scope.provide(subscription)))
    if (Exit.isFailure(watched)) {
      await run(Scope.close(subscription, Exit.void))
      throw notFound(uri, await knownNames())
    }
    await run(Scope.addFinalizer(subscription, Effect.sync(() => clearTimeout(timer))))
    return () => run(Scope.close(subscription, Exit.void))
  }

  // 2025-era subscriptions, one per uri for the session (2026-07-28 subscribes with subscriptions/listen).
  session.handle("resources/subscribe", async (params) => {
    const uri = uriOf("resources/subscribe", params)
    if (subscriptions.has(uri)) return {}
    subscriptions.set(uri, await watch(uri, () => session.notify("notifications/resources/updated", { uri })))
    return {}
  })

  session.handle("resources/unsubscribe", async (params) => {
    const uri = uriOf("resources/unsubscribe", params)
    const close = subscriptions.get(uri)
    subscriptions.delete(uri)
    await close?.()
    return {}
  })

  return { watch }
})
