/**
 * What a session's end must hand over rather than stop, as this server knows it now: the project's
 * chains being started (their starts wait for dependencies to get ready), the runs other sessions were
 * told run already, and the sessions whose end is under way. One per server, shared by every session's
 * end and every chain's start (endSessionTasks.ts).
 */
import { Context, Effect, Layer, Semaphore } from "effect"
import type { Owner } from "../supervisor/TaskActor.ts"

/** A chain being started: who will own it, the tasks it needs (its own included), and those it started. */
export interface ChainUnderWay {
  readonly owner: Owner
  readonly needs: ReadonlySet<string>
  readonly started: Set<string>
}

export class ChainClaims extends Context.Service<ChainClaims, {
  /**
   * Sessions whose end is under way: their tasks still run while they stop (up to the kill grace), but
   * they claim nothing, or a session leaving a moment later would hand its tasks to one already gone.
   */
  readonly ending: Set<string>
  /**
   * One session's hand-over at a time: a hand-over worked out before another session began to end
   * reaches that session's tasks before its own end lists them, so they end with it.
   */
  readonly handingOver: Semaphore.Semaphore
  /** The chains this server is starting now. */
  readonly underWay: Set<ChainUnderWay>
  /**
   * By session, the project tasks its starts found running as another session's run and answered so
   * (`already`): that session relies on them, so the other's end hands them (and what they need) to it.
   * Forgotten when the session ends.
   */
  readonly joined: Map<string, { readonly owner: Owner; readonly needs: Set<string> }>
}>()("taskmux/ChainClaims") {
  static readonly layer: Layer.Layer<ChainClaims> = Layer.effect(
    ChainClaims,
    Effect.map(
      Semaphore.make(1),
      (handingOver) => ChainClaims.of({ ending: new Set(), handingOver, underWay: new Set(), joined: new Map() })
    )
  )
}
