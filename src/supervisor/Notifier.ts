/**
 * Task events out to whoever listens (the MCP endpoint turns them into notifications):
 * a run ended, a task appeared or went away. Each task's actor publishes its own (the registry
 * only a new name's); subscribers read from their own queue, so a slow client never slows a task.
 */
import { Context, Effect, Layer, PubSub, type Scope } from "effect"
import type { TaskStatus } from "../domain/Task.ts"
import type { SummaryLine } from "../output/explain.ts"

export type TaskEvent =
  | {
    readonly _tag: "TaskExit"
    readonly name: string
    readonly status: TaskStatus
    readonly exitCode: number | null
    readonly signal: string | null
    readonly lastLines: ReadonlyArray<string>
    /** Lines before the last ones that look like the cause of the end. */
    readonly errorLines: ReadonlyArray<SummaryLine>
    /** What its main process left running (command lines), ended with it. */
    readonly leftRunning?: ReadonlyArray<string>
    /** Who stopped it, when someone did ("stop_task from cursor", "its session (claude-code) ended"). */
    readonly stoppedBy?: string
    /** Its restart policy runs it again at this ISO time. */
    readonly restartAt?: string
    /** The session that started it asked not to be told (`notifyOnExit: false`); others still are. */
    readonly quiet: boolean
    /** The session that owns it; null: kept. */
    readonly session: string | null
  }
  | {
    /** Its restart policy gave up on it: the last run's TaskExit said how that run ended. */
    readonly _tag: "TaskGaveUp"
    readonly name: string
    readonly reason: string
    readonly quiet: boolean
    readonly session: string | null
  }
  | { readonly _tag: "TaskAdded"; readonly name: string }
  /** A run began (a start, a restart, its policy's). */
  | { readonly _tag: "TaskStarted"; readonly name: string }
  | { readonly _tag: "TaskRemoved"; readonly name: string }

export class Notifier extends Context.Service<Notifier, {
  readonly publish: (event: TaskEvent) => void
  /** A queue of every event published from now on, for the life of the scope. */
  readonly subscribe: Effect.Effect<PubSub.Subscription<TaskEvent>, never, Scope.Scope>
}>()("taskmux/Notifier") {
  static readonly layer: Layer.Layer<Notifier> = Layer.effect(
    Notifier,
    Effect.gen(function*() {
      const events = yield* PubSub.unbounded<TaskEvent>()
      return Notifier.of({
        publish: (event) => {
          PubSub.publishUnsafe(events, event)
        },
        subscribe: PubSub.subscribe(events)
      })
    })
  )
}
