/**
 * The project file's tasks beside the running ones: what list_tasks adds (those not yet run, as
 * `defined`) and what stop_task { dependents } stops first (the running tasks that need a task).
 */
import { Effect, Struct } from "effect"
import { lostListed } from "../daemon/lostRecord.ts"
import { LostTasks } from "../daemon/LostTasks.ts"
import type { TaskSummary } from "../domain/Task.ts"
import { isFinished } from "../domain/Task.ts"
import { commandLine } from "../supervisor/startPolicy.ts"
import { TaskRegistry } from "../supervisor/TaskRegistry.ts"
import { definedListed } from "./definedListed.ts"
import { Project } from "./Project.ts"
import { dependentsOf } from "./ProjectFile.ts"

/** A task as list_tasks shows it: a project task that has not run yet is "defined". */
export type ListedTask = Omit<TaskSummary, "status" | "startedAt" | "owner" | "since"> & {
  readonly status: TaskSummary["status"] | "defined" | "lost"
  readonly startedAt: string | null
  /** Absent for a project task not yet run. */
  readonly owner?: TaskSummary["owner"]
  readonly since?: string
  /** Why a lost task is lost (and where its output is), or why a failed one failed. */
  readonly reason?: string
  readonly logFile?: string | null
}

/** Every task, then the project's tasks that have not run; and why the project file was not read, if so. */
export const listWithProject = Effect.gen(function*() {
  const tasks: Array<ListedTask> = [...yield* (yield* TaskRegistry).list]
  const project = yield* (yield* Project).current
  const known = new Set(tasks.map((t) => t.name))
  // What a dead supervisor was running, unless its name is in use again.
  for (const lost of (yield* LostTasks).list()) {
    if (known.has(lost.name)) continue
    known.add(lost.name)
    tasks.push(lostListed(lost))
  }
  for (const def of project.file?.tasks.values() ?? []) {
    if (known.has(def.name)) continue
    tasks.push(definedListed(def))
  }
  return { tasks, ...(project.error !== undefined && { projectError: project.error.message }) }
})

/** The running project tasks that need `name`, furthest first, so nothing is left waiting on what was stopped. */
export const runningDependents = (name: string) =>
  Effect.gen(function*() {
    const tasks = (yield* (yield* Project).current).file?.tasks ?? new Map()
    const dependents = dependentsOf(tasks, name)
    // Most stops: nothing needs it, and a listing of every task (each a summary) is not made for nothing.
    if (dependents.length === 0) return []
    const listed = new Map((yield* (yield* TaskRegistry).list).map((t) => [t.name, t]))
    return dependents.filter((d) => {
      const t = listed.get(d)
      return t !== undefined && !isFinished(t.status)
    })
  })

/**
 * What a restart of a project task should say: the fields its file now gives otherwise than the run
 * was started with (a restart runs it as it was), and its dependencies that do not run.
 */
export const restartNotes = (name: string, runs: boolean) =>
  Effect.gen(function*() {
    const def = (yield* (yield* Project).current).file?.tasks.get(name)
    if (def === undefined) return undefined
    const registry = yield* TaskRegistry
    const run = yield* registry.get(name, { envValues: true })
    const changed = [
      run.command !== commandLine(def.command, def.args ?? null) && "command",
      run.cwd !== def.cwd && "cwd",
      Object.entries(def.env ?? {}).some(([key, value]) => run.envValues?.[key] !== value) && "env",
      (run.terminal !== null) !== (def.terminal === true) && "terminal",
      run.restartPolicy !== (def.restart?.policy ?? "no") && "restart"
    ].filter((field) => field !== false)
    const listed = yield* registry.list
    // Not running, or (one that had to succeed) not succeeded.
    const idle = Object.entries(def.dependsOn ?? {}).filter(([dependency, condition]) => {
      const t = listed.find((t) => t.name === dependency)
      return t === undefined || (condition === "succeeded" ? t.status !== "exited" : isFinished(t.status))
    }).map(([dependency]) => dependency)
    const notes = [
      changed.length === 0 ? "" : `The project file gives "${name}" another ${changed.join(", ")} than this ` +
        `run was started with, and a restart runs it as it was: stop_task, then start_task { name: ` +
        `${JSON.stringify(name)} }, runs what the file says.`,
      idle.length === 0 ? "" : `It needs ${idle.join(", ")}, which ${idle.length === 1 ? "does" : "do"} not run ` +
        `now (start_task { name: ${JSON.stringify(idle[0])} } starts ${idle.length === 1 ? "it" : "one"}).`,
      // A restart answers at once; what the file calls ready comes later (not from another command's run).
      !runs || def.waitFor === undefined || changed.includes("command") ?
        "" :
        `Its file says when it is ready: wait_for_task ${
          JSON.stringify({ name, ...Struct.omit(def.waitFor, ["timeoutMs"]) })
        } waits for this run to be.`
    ].filter((note) => note !== "")
    return notes.length === 0 ? undefined : notes.join(" ")
  })
