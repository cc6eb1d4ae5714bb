/**
 * Each task's output as an MCP resource, `task://NAME/output`: listed, read as clean
 * text, and subscribable. A subscribed task's new output sends `resources/updated`, at
 * most a few times a second however chatty the task is.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import {
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema
} from "@modelcontextprotocol/sdk/types.js"
import { Effect, Exit, Scope } from "effect"
import { describeEnd } from "../domain/Task.ts"
import { TaskRegistry } from "../tasks/TaskRegistry.ts"
import { protocolError } from "./protocolError.ts"

/** The shortest gap between two `resources/updated` for one task. */
export const UPDATE_EVERY_MS = 250
const READ_TAIL = 200

export const outputUri = (name: string) => `task://${encodeURIComponent(name)}/output`

const nameOf = (uri: string): string | undefined => {
  const match = /^task:\/\/([^/]+)\/output$/.exec(uri)
  return match ? decodeURIComponent(match[1]!) : undefined
}

const notFound = (uri: string, known: ReadonlyArray<string>) =>
  protocolError(
    -32002,
    `Resource ${uri} not found. Task output resources are task://NAME/output; known tasks: ${
      known.join(", ") || "none"
    }.`
  )

/** Registers the resource handlers; subscriptions end with the enclosing scope. */
export const registerResources = Effect.fnUntraced(function*(server: Server) {
  const registry = yield* TaskRegistry
  const context = yield* Effect.context<never>()
  const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromiseWith(context)(effect)
  const scope = yield* Effect.scope
  const subscriptions = new Map<string, Scope.Closeable>()

  const knownNames = () => run(Effect.map(registry.list, (tasks) => tasks.map((t) => t.name)))

  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: [{
      uriTemplate: "task://{name}/output",
      name: "task-output",
      title: "Task output",
      description: "The recent output of a task, as clean text (the last 200 lines).",
      mimeType: "text/plain"
    }]
  }))

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: (await run(registry.list)).map((task) => ({
      uri: outputUri(task.name),
      name: task.name,
      title: `Output of ${task.name}`,
      description: `${task.command} (${describeEnd(task.status, task.exitCode, task.signal)})`,
      mimeType: "text/plain"
    }))
  }))

  server.setRequestHandler(ReadResourceRequestSchema, async ({ params }) => {
    const name = nameOf(params.uri)
    const page = name === undefined ? undefined : await run(Effect.option(registry.read(name, { tail: READ_TAIL })))
    if (page === undefined || page._tag === "None") throw notFound(params.uri, await knownNames())
    const text = page.value.lines.map((l) => l.text).join("\n")
    return { contents: [{ uri: params.uri, mimeType: "text/plain", text }] }
  })

  server.setRequestHandler(SubscribeRequestSchema, async ({ params }) => {
    const name = nameOf(params.uri)
    if (subscriptions.has(params.uri)) return {}
    const subscription = await run(Scope.fork(scope))
    let timer: ReturnType<typeof setTimeout> | undefined
    const send = () => {
      timer = undefined
      void server.sendResourceUpdated({ uri: params.uri }).catch(() => {})
    }
    const watched = name === undefined
      ? Exit.fail(undefined)
      : await Effect.runPromiseExit(
        registry.watch(name, () => {
          timer ??= setTimeout(send, UPDATE_EVERY_MS)
        }).pipe(Scope.provide(subscription))
      )
    if (Exit.isFailure(watched)) {
      await run(Scope.close(subscription, Exit.void))
      throw notFound(params.uri, await knownNames())
    }
    await run(Scope.addFinalizer(subscription, Effect.sync(() => clearTimeout(timer))))
    subscriptions.set(params.uri, subscription)
    return {}
  })

  server.setRequestHandler(UnsubscribeRequestSchema, async ({ params }) => {
    const subscription = subscriptions.get(params.uri)
    subscriptions.delete(params.uri)
    if (subscription !== undefined) await run(Scope.close(subscription, Exit.void))
    return {}
  })
})
