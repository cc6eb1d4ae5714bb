/**
 * A session's end, with the project's dependencies in mind. Its own tasks end with it, as always, but
 * one that a running task of another owner needs (its `dependsOn`, directly or through others) is
 * handed to that owner instead (kept, when a kept task needs it): two assistants starting one chain
 * share its dependencies, and the one that leaves first must not stop the database under the other's
 * server.
 */
import { Effect } from "effect"
import { isFinished } from "../domain/Task.ts"
import type { Owner } from "../supervisor/TaskActor.ts"
import { type RecordedTask, TaskRegistry } from "../supervisor/TaskRegistry.ts"
import { Project } from "./Project.ts"
import type { ProjectTask } from "./ProjectFile.ts"

export const endSessionTasks = Effect.fn("endSessionTasks")(function*(session: string) {
  const registry = yield* TaskRegistry
  const project = yield* (yield* Project).current
  const defined = project.file?.tasks
  if (defined !== undefined) {
    for (const [name, owner] of neededByOthers(session, yield* registry.records, defined)) {
      yield* registry.handOver(name, session, owner)
    }
  }
  yield* registry.endSession(session)
})

/**
 * The running tasks of `session` that running tasks of other owners need, each with the owner it goes
 * to: kept if any kept task needs it, else the first other session's. Pure.
 */
export const neededByOthers = (
  session: string,
  tasks: ReadonlyArray<RecordedTask>,
  defined: ReadonlyMap<string, Pick<ProjectTask, "dependsOn">>
): Map<string, Owner> => {
  const live = new Map(tasks.filter((t) => !isFinished(t.status)).map((t) => [t.name, t]))
  const heirs = new Map<string, Owner>()
  // Kept dependents first, so a dependency a kept task needs is kept, whoever else needs it.
  const others = [...live.values()].filter((t) => t.session !== session)
    .sort((a, b) => (a.session === null ? 0 : 1) - (b.session === null ? 0 : 1))
  for (const dependent of others) {
    const seen = new Set<string>()
    const visit = (name: string) => {
      for (const dependency of Object.keys(defined.get(name)?.dependsOn ?? {})) {
        if (seen.has(dependency)) continue
        seen.add(dependency)
        const task = live.get(dependency)
        if (task?.session === session && !heirs.has(dependency)) {
          heirs.set(dependency, { session: dependent.session, client: dependent.client })
        }
        visit(dependency)
      }
    }
    visit(dependent.name)
  }
  return heirs
}
