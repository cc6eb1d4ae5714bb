/**
 * `start_task { name }` without a command: the project task of that name, after its dependencies,
 * each waited for as its dependent's `dependsOn` says (started, ready, succeeded), as compose's
 * `depends_on` conditions do. Every task of the chain passes the same checks as an ad-hoc start
 * (allow/deny, cwd root, the environment policy, max tasks) before any of them starts; a
 * dependency that fails or times out stops the chain, naming it and showing its last lines.
 */
import { Effect, Schema } from "effect"
import { TaskmuxConfig } from "../Config.ts"
import { TooManyTasks } from "../domain/errors.ts"
import { compilePattern } from "../domain/pattern.ts"
import { defaultTimeoutMs } from "../domain/StartSpec.ts"
import { describeEnd, isFinished, type TaskStatus } from "../domain/Task.ts"
import { DEFAULT_TERMINAL } from "../domain/TerminalSize.ts"
import { checkPolicy } from "../supervisor/startPolicy.ts"
import {
  type Started,
  type StartRequest,
  TaskRegistry,
  type WaitRequest,
  type WaitResult
} from "../supervisor/TaskRegistry.ts"
import { Viewer } from "../supervisor/Viewer.ts"
import { whileNeeding } from "./endSessionTasks.ts"
import { Project } from "./Project.ts"
import { type Condition, type ProjectTask, startOrder } from "./ProjectFile.ts"

export class NoSuchProjectTask extends Schema.TaggedError<NoSuchProjectTask>()("NoSuchProjectTask", {
  name: Schema.String,
  known: Schema.Array(Schema.String),
  why: Schema.optionalKey(Schema.String)
}) {
  override get message() {
    if (this.why !== undefined) {
      // The file is what to fix: said first.
      return `The project file is not usable, so "${this.name}" cannot be started by name: ${this.why}. ` +
        "Fix the file, or pass a command."
    }
    return this.known.length === 0
      ? `start_task needs a command: "${this.name}" is not a project task, and the project defines none ` +
        `(a taskmux.yaml or Procfile in the project directory would).`
      : `start_task needs a command, or the name of a project task: "${this.name}" is not one. ` +
        `Project tasks: ${this.known.join(", ")}.`
  }
}

export class DependencyFailed extends Schema.TaggedError<DependencyFailed>()("DependencyFailed", {
  name: Schema.String,
  dependency: Schema.String,
  condition: Schema.String,
  outcome: Schema.String,
  lastLines: Schema.Array(Schema.String),
  started: Schema.Array(Schema.String)
}) {
  override get message() {
    const wanted = this.condition === "succeeded" ? "succeed" : `become ${this.condition}`
    return `"${this.name}" was not started: its dependency "${this.dependency}" did not ${wanted}: ${this.outcome}.` +
      (this.started.length > 0 ? ` Started and left running: ${this.started.join(", ")}.` : "") +
      (this.lastLines.length > 0 ? `\nLast lines of "${this.dependency}":\n${this.lastLines.join("\n")}` : "")
  }
}

export interface ChainStep {
  readonly name: string
  readonly pid: number | null
  readonly status: TaskStatus
}

export interface ProjectStart {
  /** The task asked for. */
  readonly started: Started
  /** Its own waitFor, when it has one. */
  readonly wait: WaitResult | undefined
  /** Every task of the chain, dependencies first: those started now and those already running. */
  readonly tasks: ReadonlyArray<ChainStep>
}

/** A project task as start_task takes it; kept when its file says so or the start asks it. */
export const asStartRequest = (task: ProjectTask, keep = false): StartRequest => ({
  command: task.command,
  ...(task.args !== undefined && { args: task.args }),
  name: task.name,
  cwd: task.cwd,
  ...(task.env !== undefined && { env: task.env }),
  ...(task.notifyOnExit !== undefined && { notifyOnExit: task.notifyOnExit }),
  ...(task.restart !== undefined && { restart: task.restart }),
  ...(task.terminal === true && { terminal: DEFAULT_TERMINAL }),
  ...((keep || task.keep === true) && { keep: true })
})

/** Its waitFor as a wait, compiled; undefined for a task without one. */
export const waitOf = (task: ProjectTask): WaitRequest | undefined => {
  const w = task.waitFor
  if (w === undefined) return undefined
  return {
    ...(w.pattern !== undefined && { pattern: compilePattern(w.pattern) }),
    ...(w.port !== undefined && { port: w.port }),
    ...(w.exit === true && { exit: true }),
    // This run's lines, whoever saw them: an earlier run's ready line says nothing of this one.
    since: "run",
    timeoutMs: w.timeoutMs ?? defaultTimeoutMs(w.exit)
  }
}

export const startProjectTask = Effect.fnUntraced(function*(
  name: string,
  onProgress: WaitRequest["onProgress"],
  /** Keep every task the chain starts: a kept task's dependencies must outlive the session too. */
  keep = false
) {
  const registry = yield* TaskRegistry
  const config = yield* TaskmuxConfig
  const state = yield* (yield* Project).current
  const tasks = state.file?.tasks ?? new Map<string, ProjectTask>()
  const target = tasks.get(name)
  if (target === undefined) {
    return yield* new NoSuchProjectTask({
      name,
      known: [...tasks.keys()],
      ...(state.error !== undefined && { why: state.error.message })
    })
  }
  const order = startOrder(tasks, name).map((n) => tasks.get(n)!)
  // The same checks as an ad-hoc start, for every task of the chain, before any starts.
  for (const task of order) {
    yield* checkPolicy(config, asStartRequest(task))
  }
  const listed = yield* registry.list
  const running = new Map(listed.filter((t) => !isFinished(t.status)).map((t) => [t.name, t]))
  // Already running: the task itself says so, and whose it is; nothing of its chain runs again.
  if (running.has(name)) {
    const started = yield* registry.start(asStartRequest(target, keep || target.keep === true))
    // It ended since the list and runs again: its dependencies were met for the run before.
    return { started, wait: undefined, tasks: [started] } satisfies ProjectStart
  }
  // The chain's needs are known while it runs: a session that ends meanwhile hands them over to this one.
  const viewer = yield* Viewer
  const owner = keep || target.keep === true
    ? { session: null, client: null }
    : { session: viewer.id, client: viewer.client() ?? null }
  const needs = order.map((t) => t.name).filter((n) => n !== name)
  return yield* whileNeeding(
    owner,
    needs,
    Effect.gen(function*() {
      const toStart = order.filter((t) => !running.has(t.name))
      if (running.size + toStart.length > config.maxTasks) return yield* new TooManyTasks({ limit: config.maxTasks })

      const steps: Array<ChainStep> = []
      const startedNow: Array<string> = []
      /** Conditions already met, so a dependency shared by several is waited for once. */
      const met = new Set<string>()
      const ensure = (dependent: ProjectTask, dependency: string, condition: Condition) =>
        Effect.gen(function*() {
          if (met.has(`${dependency}:${condition}`)) return
          const task = tasks.get(dependency)!
          const failed = (outcome: string, lastLines: ReadonlyArray<string>) =>
            new DependencyFailed({
              name: dependent.name,
              dependency,
              condition,
              outcome,
              lastLines,
              started: startedNow.filter((n) => n !== dependency)
            })
          // Progress names what the chain waits for, from its first moment (a person at `taskmux start` sees it).
          const wanted = condition === "succeeded" ? "succeed" : `become ${condition}`
          const waiting = onProgress === undefined ?
            undefined :
            (elapsedMs: number, note: string | undefined) =>
              onProgress(elapsedMs, `for "${dependency}" to ${wanted}${note === undefined ? "" : `; ${note}`}`)
          const waits = condition === "succeeded" || condition === "ready" && task.waitFor !== undefined
          if (waits && waiting !== undefined) yield* waiting(0, undefined)
          if (condition === "succeeded") {
            const waited = yield* registry.wait(dependency, {
              exit: true,
              since: 0,
              timeoutMs: task.waitFor?.timeoutMs ?? defaultTimeoutMs(true),
              onProgress: waiting
            })
            if (waited.timedOut) {
              return yield* failed(`still ${waited.status} after ${waited.elapsedMs} ms`, waited.lastLines)
            }
            if (waited.status !== "exited") {
              return yield* failed(describeEnd(waited.status, waited.exitCode, waited.signal), waited.lastLines)
            }
          } else {
            const wait = condition === "ready" ? waitOf(task) : undefined
            if (wait !== undefined) {
              const waited = yield* registry.wait(dependency, { ...wait, onProgress: waiting })
              if (!waited.matched) {
                const outcome = waited.timedOut
                  ? `not ready after ${waited.elapsedMs} ms (still ${waited.status})`
                  : `it ended (${describeEnd(waited.status, waited.exitCode, waited.signal)})`
                return yield* failed(outcome, waited.lastLines)
              }
            } else {
              const now = yield* registry.get(dependency)
              if (now.status === "failed") return yield* failed(`it never started (${now.error ?? "failed"})`, [])
            }
          }
          met.add(`${dependency}:${condition}`)
        })

      for (const task of order) {
        for (const [dependency, condition] of Object.entries(task.dependsOn ?? {})) {
          yield* ensure(task, dependency, condition)
        }
        const already = running.get(task.name)
        if (already !== undefined) {
          steps.push({ name: task.name, pid: already.pid, status: already.status })
          continue
        }
        const request = asStartRequest(task, keep || target.keep === true)
        // Another chain may have started a shared dependency since the list: it is used as it runs.
        let shared = false
        const started = yield* task.name === name
          ? registry.start(request)
          : Effect.catchTag(registry.start(request), "TaskAlreadyRunning", (taken) =>
            Effect.sync(() => {
              shared = true
              return { name: task.name, pid: taken.pid, status: "running" as const }
            }))
        if (!shared) startedNow.push(task.name)
        steps.push({ name: started.name, pid: started.pid, status: started.status })
      }
      const last = steps[steps.length - 1]!
      const ownWait = waitOf(target)
      const ownProgress = onProgress === undefined ?
        undefined :
        (elapsedMs: number, note: string | undefined) =>
          onProgress(elapsedMs, `for "${name}" to become ready${note === undefined ? "" : `; ${note}`}`)
      if (ownWait !== undefined && ownProgress !== undefined) yield* ownProgress(0, undefined)
      const wait = ownWait === undefined
        ? undefined
        : yield* registry.wait(name, { ...ownWait, onProgress: ownProgress })
      // The chain as it is now: a dependency that had to succeed has ended.
      const now = new Map((yield* registry.list).map((t) => [t.name, t]))
      return {
        started: { name: last.name, pid: last.pid, status: wait?.status ?? last.status },
        wait,
        // (and a dependency another chain was spawning when this one found it has its pid by now).
        tasks: steps.map((step) => ({
          ...step,
          pid: now.get(step.name)?.pid ?? step.pid,
          status: now.get(step.name)?.status ?? step.status
        }))
      } satisfies ProjectStart
    })
  )
})
