/**
 * tools/list and tools/call for a session, and the protocol tasks a call can run as (tasks/*): a
 * 2025-11-25 client asks for one with `params.task`; for a 2026-07-28 client that opted into the
 * Tasks extension, a call that can wait becomes one when it has not answered within TASK_AFTER_MS.
 * A client that asks for neither gets the blocking answer.
 */
import { Context, Effect } from "effect"
import { TaskmuxConfig, type TaskmuxOptions } from "../Config.ts"
import { closest } from "../domain/argumentIssues.ts"
import { statelessViewer, Viewer, type ViewerShape } from "../supervisor/Viewer.ts"
import { internalErrorMessage } from "./internalError.ts"
import { isObject, quoteValue } from "./json.ts"
import type { McpSession, Params, RequestContext } from "./McpSession.ts"
import { ErrorCode, invalidParams, protocolError } from "./protocolError.ts"
import {
  type CallRun,
  legacyView,
  modernView,
  type Outcome,
  type ProtocolTask,
  ProtocolTasks
} from "./ProtocolTasks.ts"
import { APP_URI } from "./Resources.ts"
import { rendersApps, TASKS_EXTENSION, TASKS_REVISION } from "./revisions.ts"
import type { Tool, ToolContext, ToolEnv } from "./Tool.ts"
import { tools } from "./toolTable.ts"

/** A 2026-07-28 call that can wait answers as itself if it is over by then, else as a task. */
export const TASK_AFTER_MS = 1000
const RELATED_TASK_META = "io.modelcontextprotocol/related-task"
const LIST_PAGE = 50

const toolsByName = new Map(tools.map((tool) => [tool.name, tool]))
const toolNames = [...toolsByName.keys()].join(", ")
const waitingTools = tools.filter((tool) => tool.canWait).map((tool) => tool.name).join(", ")

/** Tools whose answers the task page (an MCP App) shows, for clients that render apps. */
const SHOWN_IN_APP = new Set(["list_tasks", "get_task"])

/** The defaults a server's settings change (`--kill-grace-ms`, `--read-max-bytes`): tool, field, setting. */
const CONFIGURED = [
  ["stop_task", "graceMs", "killGraceMs"],
  ["read_output", "maxBytes", "readMaxBytes"]
] as const

/** A tool's definition with the defaults of this server's settings, not the built-in ones. */
const configured = (definition: Tool["definition"], config: TaskmuxOptions): Tool["definition"] => {
  const fields = CONFIGURED.filter(([tool]) => tool === definition.name)
  if (fields.length === 0) return definition
  const properties = { ...definition.inputSchema.properties }
  for (const [, field, setting] of fields) {
    properties[field] = { ...(properties[field] as object), default: config[setting] }
  }
  return { ...definition, inputSchema: { ...definition.inputSchema, properties } }
}

/**
 * tools/list as a client of this kind sees it: `execution` only in 2025-11-25 (2026-07-28 has none), the
 * app linked only for a client that renders apps (others see nothing new), the defaults this server's
 * settings give. Built once each, when asked.
 */
const definitionsFor = (() => {
  const built = new Map<string, ReadonlyArray<Tool["definition"]>>()
  return (withTasks: boolean, withApp: boolean, config: TaskmuxOptions) => {
    const key = `${withTasks}/${withApp}/${CONFIGURED.map(([, , setting]) => config[setting]).join("/")}`
    let definitions = built.get(key)
    if (definitions === undefined) {
      definitions = tools.map(({ definition: { execution, ...definition } }) => ({
        ...configured(definition, config),
        ...(withTasks && execution !== undefined && { execution }),
        ...(withApp && SHOWN_IN_APP.has(definition.name) && { _meta: { ui: { resourceUri: APP_URI } } })
      }))
      built.set(key, definitions)
    }
    return definitions
  }
})()

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
    const guess = closest(name, [...toolsByName.keys()])
    throw invalidParams(
      `Unknown tool ${JSON.stringify(name)}${guess === undefined ? "" : ` (did you mean ${guess}?)`}. ` +
        `Available tools: ${toolNames}.`
    )
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

/** A 2025-11-25 `params.task`: the TTL it asks for, if any. */
const checkTaskParam = (tool: Tool, task: unknown): number | undefined => {
  if (!isObject(task)) {
    throw invalidParams(
      `tools/call params.task must be an object such as {"ttl": 600000} (or {}), got ${quoteValue(task)}.`
    )
  }
  const ttl = task.ttl
  if (ttl !== undefined && ttl !== null && (typeof ttl !== "number" || !(ttl >= 0))) {
    throw invalidParams(`tools/call params.task.ttl must be milliseconds (a number ≥ 0), got ${quoteValue(ttl)}.`)
  }
  if (!tool.canWait) {
    throw protocolError(
      ErrorCode.MethodNotFound,
      `${tool.name} does not run as a task (its execution.taskSupport is forbidden): call it without params.task. ` +
        `Tools that can: ${waitingTools}.`
    )
  }
  return typeof ttl === "number" ? ttl : undefined
}

const missingTasksExtension = (method: string) =>
  protocolError(
    ErrorCode.MissingRequiredClientCapability,
    `Missing required client capability: ${method} needs the Tasks extension, declared in ` +
      `_meta["io.modelcontextprotocol/clientCapabilities"].extensions["${TASKS_EXTENSION}"] = {}.`,
    { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } }
  )

/** Registers tools/list, tools/call and tasks/*; `changed` hears each protocol task's status change. */
export const registerTools = (
  session: McpSession,
  context: Context.Context<ToolEnv>,
  viewer: ViewerShape,
  changed: (task: ProtocolTask) => void
): ProtocolTasks => {
  const run = Effect.runPromiseWith(context)
  const tasks = new ProtocolTasks((task) => {
    // 2025-11-25's status notification; a 2026-07-28 client hears through subscriptions/listen.
    if (task.legacy && !session.modernClient) session.notify("notifications/tasks/status", legacyView(task))
    changed(task)
  })

  const config = Context.get(context, TaskmuxConfig)
  session.handle("tools/list", (_, request) => ({
    tools: definitionsFor(request.revision === TASKS_REVISION, rendersApps(request.capabilities), config)
  }))

  /**
   * A run stops with its call only when the client cancelled the protocol task (tasks/cancel): not when
   * a plain request is cancelled, nor when the session ends (a kept run outlives its client).
   */
  const cancelledByClient = (task: ProtocolTask | undefined) => task?.status === "cancelled"

  /** A call as this request's viewer makes it; `stopsRun` says, when it is interrupted, whether a run stops with it. */
  const callOf = (
    tool: Tool,
    args: unknown,
    request: RequestContext,
    progress: ToolContext["progress"],
    stopsRun: () => boolean
  ) => {
    const who = request.modern === undefined ? viewer : statelessViewer(viewer, request.modern.clientName)
    return tool.call(args, { progress, cancelStopsRun: stopsRun }).pipe(Effect.provideService(Viewer, who))
  }

  const internalError = (error: unknown) => ({
    code: ErrorCode.InternalError,
    message: internalErrorMessage("tools/call", error)
  })

  /** Starts a call that may become a protocol task: its outcome, and how to cancel it. */
  const start = (
    tool: Tool,
    args: unknown,
    request: RequestContext,
    progress: ToolContext["progress"],
    stopsRun: () => boolean
  ): CallRun => {
    const controller = new AbortController()
    return {
      cancel: (reason) => controller.abort(reason),
      outcome: run(callOf(tool, args, request, progress, stopsRun), { signal: controller.signal }).then(
        (result): Outcome => ({ result: result as Record<string, unknown> }),
        (error): Outcome => ({ error: internalError(error) })
      )
    }
  }

  const progressTo = (request: RequestContext, task: () => ProtocolTask | undefined): ToolContext["progress"] => {
    const token = request.progressToken
    return (progress, total, message) =>
      Effect.sync(() => {
        const held = task()
        if (held !== undefined) tasks.progress(held, message)
        // 2025-11-25: a task's request's token stays good for its life; 2026-07-28 tasks have no progress.
        if (token !== undefined && (held === undefined || held.legacy)) {
          session.notify("notifications/progress", { progressToken: token, progress, total, message })
        }
      })
  }

  const answerOf = (outcome: Outcome) => {
    if ("result" in outcome) return outcome.result
    throw protocolError(outcome.error.code, outcome.error.message, outcome.error.data)
  }

  session.handle("tools/call", async (params, request) => {
    const { arguments: args, tool } = checkCall(params)
    if (request.revision === TASKS_REVISION && params?.task !== undefined) {
      const ttl = checkTaskParam(tool, params.task)
      const full = tasks.room()
      if (full !== undefined) throw full
      const held: { task?: ProtocolTask } = {}
      held.task = tasks.create(
        start(tool, args, request, progressTo(request, () => held.task), () => cancelledByClient(held.task)),
        true,
        ttl
      )
      return { task: legacyView(held.task) }
    }
    if (request.modern?.tasks === true && tool.canWait && tasks.room() === undefined) {
      const held: { task?: ProtocolTask } = {}
      const call = start(tool, args, request, progressTo(request, () => held.task), () => cancelledByClient(held.task))
      // Until it is a task, it is this request: cancelling the request ends it.
      const onAbort = () => call.cancel("request cancelled")
      request.signal.addEventListener("abort", onAbort)
      let timer: ReturnType<typeof setTimeout> | undefined
      const quick = await Promise.race([
        call.outcome,
        new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), TASK_AFTER_MS))
      ])
      clearTimeout(timer)
      request.signal.removeEventListener("abort", onAbort)
      if (quick !== undefined) return answerOf(quick)
      // Room is looked at again: calls that began together would all become tasks, past the bounds.
      if (tasks.room() !== undefined) {
        request.signal.addEventListener("abort", onAbort)
        try {
          return answerOf(await call.outcome)
        } finally {
          request.signal.removeEventListener("abort", onAbort)
        }
      }
      held.task = tasks.create(call, false)
      return { resultType: "task", ...modernView(held.task, false) }
    }
    const progress = request.progressToken === undefined ? undefined : progressTo(request, () => undefined)
    // The common case, kept direct. Cancelling the request interrupts the call (the request's own controller).
    try {
      const call = callOf(tool, args, request, progress, () => false)
      const result = await run(call, { signal: request.controller.signal })
      return result as Record<string, unknown>
    } catch (error) {
      const { code, message } = internalError(error)
      throw protocolError(code, message)
    }
  })

  const taskOf = (method: string, params: Params | undefined, request: RequestContext) => {
    if (request.modern !== undefined && !request.modern.tasks) throw missingTasksExtension(method)
    return tasks.get(params?.taskId)
  }

  session.handle("tasks/get", (params, request) => {
    const task = taskOf("tasks/get", params, request)
    return request.modern === undefined ? legacyView(task) : modernView(task, true)
  })

  session.handle("tasks/result", async (params, request) => {
    const task = taskOf("tasks/result", params, request)
    // Blocks until the task is over (or this request is cancelled).
    await Promise.race([
      task.ended,
      new Promise((resolve) => request.signal.addEventListener("abort", resolve, { once: true }))
    ])
    if (task.status === "cancelled" || task.outcome === undefined) {
      throw invalidParams(`Task ${task.taskId} was cancelled (tasks/cancel) before it finished: it has no result.`)
    }
    const result = answerOf(task.outcome)
    const meta = isObject(result._meta) ? result._meta : {}
    return { ...result, _meta: { ...meta, [RELATED_TASK_META]: { taskId: task.taskId } } }
  })

  // A cursor is the place of the last task a page gave: it holds when that task is forgotten since
  // (its TTL passed, or it made room), and the next page is the tasks after it.
  session.handle("tasks/list", (params) => {
    const cursor = params?.cursor
    const after = cursor === undefined ? 0 : placeOf(cursor, tasks.lastSeq)
    if (after === undefined) {
      throw invalidParams(
        `Invalid params for tasks/list: cursor ${quoteValue(cursor)} is no nextCursor of this session.`
      )
    }
    const rest = tasks.list().filter((task) => task.seq > after)
    const page = rest.slice(0, LIST_PAGE)
    return {
      tasks: page.map(legacyView),
      ...(rest.length > LIST_PAGE && { nextCursor: String(page[page.length - 1]!.seq) })
    }
  })

  session.handle("tasks/cancel", async (params, request) => {
    const task = taskOf("tasks/cancel", params, request)
    if (request.modern === undefined && task.status !== "working") {
      throw invalidParams(`Cannot cancel task: already in terminal status '${task.status}'.`)
    }
    tasks.cancel(task)
    // Answered once the call is over: a cancelled run's processes are gone by then.
    await task.done
    return request.modern === undefined ? legacyView(task) : {}
  })

  session.handle("tasks/update", (params, request) => {
    taskOf("tasks/update", params, request)
    // taskmux's calls never ask the client for input: there is nothing to take.
    return {}
  })

  return tasks
}

/** The place a tasks/list cursor names: a number no greater than the last task's seq, else undefined. */
const placeOf = (cursor: unknown, last: number): number | undefined => {
  if (typeof cursor !== "string" || !/^\d+$/.test(cursor)) return undefined
  const place = Number(cursor)
  return place <= last ? place : undefined
}
