/**
 * A viewer's live task list (`/api/events`): the list as list_tasks gives it, with the figures the page's
 * table shows and the project's dependency graph, sent when a task starts, ends, comes or goes, and every
 * few seconds while the page is shown.
 */
import { Effect, type Fiber, PubSub } from "effect"
import type * as http from "node:http"
import type { Project } from "../project/Project.ts"
import type { Notifier } from "../supervisor/Notifier.ts"
import type { TaskRegistry } from "../supervisor/TaskRegistry.ts"
import { toolsByName } from "./apiCall.ts"
import type { PageRunner } from "./pageRunner.ts"
import { sse } from "./sse.ts"
import { ticker } from "./ticker.ts"

/**
 * How often the task list is sent even when nothing ended (memory, CPU and uptime move), as `top` does:
 * each send looks at every process in /proc, which a page left open pays for all day. A page takes a
 * stream without one for 10 s as dead (SILENT_MS in ui/src/httpBackend.ts).
 */
const REFRESH_MS = 3000

/** The project file's dependencies: each task's names it needs first. */
const graphOf = (project: Project["Service"]) =>
  Effect.map(project.current, (state): Record<string, ReadonlyArray<string>> =>
    Object.fromEntries(
      [...state.file?.tasks ?? new Map()].map(([name, task]) => [name, Object.keys(task.dependsOn ?? {})])
    ))

export interface TaskListOptions {
  readonly run: PageRunner
  readonly registry: TaskRegistry["Service"]
  readonly project: Project["Service"]
  readonly notifier: Notifier["Service"]
  /** Forks the stream's watch of the notifier in a fiber of the listener's: its end ends them all. */
  readonly runFork: (effect: Effect.Effect<never>) => Fiber.Fiber<never>
  /** A page started watching (+1) or stopped (-1). */
  readonly viewers: (change: 1 | -1) => void
}

/** The handler of `/api/events`: the stream lasts as long as the viewer's request. */
export const taskListStream = (options: TaskListOptions) => {
  const { notifier, project, registry, run } = options
  /**
   * The task list as list_tasks gives it, each running or ended task with the figures a table shows
   * beside it (CPU, restarts, how its last run ended), and the project's dependency graph.
   */
  const snapshot = async () => {
    const listed = await run(toolsByName.get("list_tasks")!.call({}, {}))
    const vitals = new Map((await run(registry.vitals)).map(({ name, ...figures }) => [name, figures]))
    const { tasks, ...rest } = listed.structuredContent as { tasks: ReadonlyArray<{ name: string }> }
    return {
      ...rest,
      tasks: tasks.map((task) => ({ ...task, ...vitals.get(task.name) })),
      graph: await run(graphOf(project))
    }
  }

  return (request: http.IncomingMessage, response: http.ServerResponse, url: URL) => {
    const send = sse(response)
    const tick = ticker(response, async () => void send("tasks", await snapshot()))
    // A hidden page's list (`hidden=1`) is sent when tasks change, without the figures that move anyway.
    const refresh = url.searchParams.get("hidden") === "1" ? undefined : setInterval(tick.mark, REFRESH_MS)
    // Each task event (started, ended, added, removed) marks the list.
    const listening = options.runFork(Effect.scoped(
      Effect.flatMap(notifier.subscribe, (events) => Effect.forever(Effect.map(PubSub.take(events), tick.mark)))
    ))
    options.viewers(1)
    request.once("close", () => {
      tick.stop()
      clearInterval(refresh)
      listening.interruptUnsafe()
      options.viewers(-1)
    })
  }
}
