/**
 * A session's end, with the project's dependencies in mind. Its own tasks end with it, as always, but
 * one that a running task of another owner needs (its `dependsOn`, directly or through others) is
 * handed to that owner instead (kept, when a kept task needs it): two assistants starting one chain
 * share its dependencies, and the one that leaves first must not stop the database under the other's
 * server.
 */
import { Effect, Option } from "effect"
import { isFinished } from "../domain/Task.ts"
import type { Owner } from "../supervisor/TaskActor.ts"
import { type RecordedTask, TaskRegistry } from "../supervisor/TaskRegistry.ts"
import { ChainClaims, type ChainUnderWay } from "./ChainClaims.ts"
import { Project } from "./Project.ts"
import type { ProjectTask } from "./ProjectFile.ts"

export const endSessionTasks = Effect.fn("endSessionTasks")(function*(session: string) {
  const registry = yield* TaskRegistry
  const projects = yield* Project
  const { ending, handingOver, joined, underWay } = yield* ChainClaims
  const handOver = Effect.gen(function*() {
    const defined = (yield* projects.current).file?.tasks
    yield* handingOver.withPermits(1)(Effect.gen(function*() {
      ending.add(session)
      if (defined === undefined) return
      const claims = [...underWay, ...joined.values()]
      const heirs = neededByOthers(session, yield* registry.records, defined, claims, ending)
      for (const [name, owner] of heirs) yield* registry.handOver(name, session, owner)
    }))
  })
  // Whatever becomes of the hand-over (a bug; an actor that does not answer, its process stuck in the
  // kernel), the session's own tasks end: else they would run on, nobody's, and keep the supervisor up.
  yield* handOver.pipe(
    Effect.timeoutOption(HAND_OVER_MS),
    Effect.flatMap(Option.match({
      onNone: () => Effect.logWarning(`session ${session}: its hand-over took over ${HAND_OVER_MS / 1000} s`),
      onSome: () => Effect.void
    })),
    Effect.catchCause((cause) => Effect.logError(`session ${session}: its hand-over failed`, cause)),
    Effect.andThen(registry.endSession(session)),
    Effect.ensuring(Effect.sync(() => {
      ending.delete(session)
      joined.delete(session)
    }))
  )
})

/** The longest a session's end waits for its hand-over before it ends its own tasks anyway. */
const HAND_OVER_MS = 10_000

/** What a chain (or a running task) needs, and for whom. */
type Claim = Pick<ChainUnderWay, "owner" | "needs">

/**
 * Runs a chain's start with its needs known, so that a session that ends meanwhile hands over what
 * the chain waits for (its database, still getting ready; the task itself, another session's run it
 * joined) instead of stopping it under the chain. The start records what it starts in `chain.started`.
 */
export const whileNeeding = <A, E, R>(
  owner: Owner,
  needs: Iterable<string>,
  start: (chain: ChainUnderWay) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R | ChainClaims> =>
  Effect.flatMap(Effect.service(ChainClaims), ({ underWay }) => {
    const chain: ChainUnderWay = { owner, needs: new Set(needs), started: new Set() }
    underWay.add(chain)
    return Effect.ensuring(start(chain), Effect.sync(() => underWay.delete(chain)))
  })

/**
 * What the chains under way have started: this moment's runs, which another start of a chain that needs
 * them uses as they are (a migration one has just run to success is not run again by the second).
 */
export const startedUnderWay: Effect.Effect<ReadonlySet<string>, never, ChainClaims> = Effect.map(
  Effect.service(ChainClaims),
  ({ underWay }) => {
    const out = new Set<string>()
    for (const chain of underWay) for (const name of chain.started) out.add(name)
    return out
  }
)

/**
 * The running tasks of `session` that running tasks of other owners need, or chains other owners are
 * starting or joined (each claim's needs with what they need in turn), each with the owner it goes to:
 * kept if any kept task or chain needs it, else the first other session's that is not `ending`. Pure.
 */
export const neededByOthers = (
  session: string,
  tasks: ReadonlyArray<RecordedTask>,
  defined: ReadonlyMap<string, Pick<ProjectTask, "dependsOn">>,
  chains: ReadonlyArray<Claim> = [],
  ending: ReadonlySet<string> = new Set()
): Map<string, Owner> => {
  const live = new Map(tasks.filter((t) => !isFinished(t.status)).map((t) => [t.name, t]))
  /** Everything `name` needs, through the tasks it needs. */
  const needsOf = (name: string, found = new Set<string>()): Set<string> => {
    for (const dependency of Object.keys(defined.get(name)?.dependsOn ?? {})) {
      if (found.has(dependency)) continue
      found.add(dependency)
      needsOf(dependency, found)
    }
    return found
  }
  const claims: Array<Claim> = [
    ...chains.map((chain) => ({
      owner: chain.owner,
      // What a running need needs in turn (a joined run's database); one that ended needs nothing now.
      needs: [...chain.needs].reduce(
        (found, need) => live.has(need) ? needsOf(need, found.add(need)) : found.add(need),
        new Set<string>()
      )
    })),
    ...[...live.values()].map((t) => ({ owner: { session: t.session, client: t.client }, needs: needsOf(t.name) }))
  ]
  const heirs = new Map<string, Owner>()
  // Kept claims first, so what a kept task needs is kept, whoever else needs it.
  for (const claim of claims.sort((a, b) => (a.owner.session === null ? 0 : 1) - (b.owner.session === null ? 0 : 1))) {
    if (claim.owner.session === session) continue
    if (claim.owner.session !== null && ending.has(claim.owner.session)) continue
    for (const need of claim.needs) {
      if (live.get(need)?.session === session && !heirs.has(need)) heirs.set(need, claim.owner)
    }
  }
  return heirs
}
