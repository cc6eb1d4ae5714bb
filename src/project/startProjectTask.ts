/**
 * `start_task { name }` without a command: the project task of that name, after its dependencies,
 * each waited for as its dependent's `dependsOn` says (started, ready, succeeded), as compose's
 * `depends_on` conditions do. Every task of the chain passes the same checks as an ad-hoc start
 * (allow/deny, cwd root, the environment policy, max tasks) before any of them starts; a
 * dependency that fails or times out stops the chain, naming it and showing its last lines.
 */
import { Effect, Schema } from "effect"
import { TaskmuxConfig } from "../Config.ts"
import {
  CommandRefused,
  CwdOutsideRoot,
  InvalidCwd,
  TaskAlreadyRunning,
  type TaskNotFound,
  TooManyTasks
} from "../domain/errors.ts"
import { compilePattern } from "../domain/pattern.ts"
import { defaultTimeoutMs } from "../domain/StartSpec.ts"
import { describeEnd, isFinished, type TaskStatus } from "../domain/Task.ts"
import { DEFAULT_TERMINAL } from "../domain/TerminalSize.ts"
import { checkDirectory, checkPolicy } from "../supervisor/startPolicy.ts"
import type { Owner } from "../supervisor/TaskActor.ts"
import {
  type Started,
  type StartRequest,
  TaskRegistry,
  type WaitRequest,
  type WaitResult
} from "../supervisor/TaskRegistry.ts"
import { Viewer } from "../supervisor/Viewer.ts"
import { ChainClaims } from "./ChainClaims.ts"
import { waitingFor } from "./chainProgress.ts"
import { startedUnderWay, whileNeeding } from "./endSessionTasks.ts"
import { Project } from "./Project.ts"
import { type Condition, type ProjectTask, startOrder } from "./ProjectFile.ts"

export class NoSuchProjectTask extends Schema.TaggedError<NoSuchProjectTask>()("NoSuchProjectTask", {
  name: Schema.String,
  known: Schema.Array(Schema.String),
  why: Schema.optionalKey(Schema.String),
  /** The project's directory, where a task file would be. */
  dir: Schema.optionalKey(Schema.String),
  /** Its task file, when it has one (which may define none: an empty Procfile). */
  file: Schema.optionalKey(Schema.String),
  /** A task started with a command holds the name: how it is. */
  task: Schema.optionalKey(Schema.Struct({ status: Schema.String, pid: Schema.NullOr(Schema.Int) }))
}) {
  override get message() {
    // A task of that name: the model means it (its own, from before a compaction, or one the file has
    // dropped since it started): how it is, and that restart_task runs it again.
    const how = this.task === undefined ? "" : howItRuns(this.name, this.task)
    if (this.why !== undefined) {
      // The file is what to fix: said first.
      return `The project file is not usable, so "${this.name}" cannot be started by name: ${this.why}. ` +
        "Fix the file, or pass a command." + (how === "" ? "" : ` The task "${this.name}" ${how}`)
    }
    if (how !== "") {
      return this.known.length === 0
        ? `"${this.name}" is a task started with a command, not a project task: it ${how}`
        : `"${this.name}" is not a task of the project file now (its tasks: ${this.known.join(", ")}): ` +
          `the task "${this.name}" ${how}`
    }
    return this.known.length === 0
      ? `start_task needs a command: "${this.name}" is not a project task, and ` + (this.file === undefined
        ? `the project defines none (a taskmux.yaml or Procfile in ${this.dir ?? "the project directory"} would).`
        : `${this.file} defines none.`)
      : `start_task needs a command, or the name of a project task: "${this.name}" is not one. ` +
        `Project tasks: ${this.known.join(", ")}.`
  }
}

const howItRuns = (name: string, { pid, status }: { readonly status: string; readonly pid: number | null }) =>
  status === "running" || status === "restarting"
    ? `is ${status} (pid ${pid}). restart_task runs it again; read_output shows what it printed.`
    : `is ${status}. restart_task { name: "${name}" } runs it again with its command.`

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

export class DependencyTaken extends Schema.TaggedError<DependencyTaken>()("DependencyTaken", {
  name: Schema.String,
  dependency: Schema.String,
  command: Schema.String,
  wanted: Schema.String
}) {
  override get message() {
    return `"${this.name}" was not started: its dependency "${this.dependency}" runs ${
      JSON.stringify(this.command)
    }, not the project file's ${JSON.stringify(this.wanted)}. Stop that one (stop_task), or start it under ` +
      `another name, then start "${this.name}" again.`
  }
}

export class ProjectTaskChanged extends Schema.TaggedError<ProjectTaskChanged>()("ProjectTaskChanged", {
  name: Schema.String,
  pid: Schema.NullOr(Schema.Int),
  /** Whose it is, in words ("" for the asker's own). */
  owner: Schema.String,
  command: Schema.String,
  wanted: Schema.String
}) {
  override get message() {
    return `Project task "${this.name}" is already running (pid ${this.pid}, ${
      this.owner === "" ? "started by this session" : this.owner
    }) as ${JSON.stringify(this.command)}, but the project file gives it another command, ${
      JSON.stringify(this.wanted)
    }. stop_task, then start_task { name: "${this.name}" }, runs what the file says; restart_task runs it as it is.`
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
  /** It ran already, as its file says: nothing was started. Whose it is, in words. */
  readonly already?: string
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

/** A wait's progress as the chain says it: what it waits for ("db" to become ready), then the wait's note. */
const progressFor = (onProgress: WaitRequest["onProgress"], what: string): WaitRequest["onProgress"] =>
  onProgress === undefined ?
    undefined :
    (elapsedMs, note) => onProgress(elapsedMs, `for ${what}${note === undefined ? "" : `; ${note}`}`)

/** What a task's own wait waits for: its end (`exit: true`), or its readiness. */
const waitedFor = (wait: WaitRequest | undefined) => wait?.exit === true ? "end" as const : "become ready" as const

/**
 * A start answered with another session's run of the task relies on that run from now on. One that
 * keeps (`keep: true`, `taskmux start`; its owner no session) keeps it now, as a start would have made
 * it, rather than ending with that session; a session's start claims it, so that the other's end hands
 * it over (endSessionTasks.ts) rather than stopping it under the one told it runs. Whether it is kept now.
 */
const relyOn = (name: string, asker: Owner) =>
  Effect.gen(function*() {
    const registry = yield* TaskRegistry
    const holder = (yield* registry.records).find((t) => t.name === name && !isFinished(t.status))
    if (holder === undefined || holder.session === null || holder.session === asker.session) return false
    if (asker.session === null) {
      yield* registry.handOver(name, holder.session, asker)
      return true
    }
    const { joined } = yield* ChainClaims
    const claim = joined.get(asker.session) ?? { owner: asker, needs: new Set<string>() }
    joined.set(asker.session, claim)
    claim.needs.add(name)
    return false
  })

/**
 * A project task that runs as its file says: its run, once ready (its waitFor), relied on by the start
 * that asked (see relyOn): kept from now on when `asker` keeps.
 */
const alreadyRunning = (
  task: ProjectTask,
  pid: number | null,
  owner: string,
  asker: Owner,
  onProgress: WaitRequest["onProgress"],
  own: WaitRequest | undefined
) =>
  Effect.gen(function*() {
    const registry = yield* TaskRegistry
    const kept = yield* relyOn(task.name, asker)
    const wait = own === undefined
      ? undefined
      : yield* registry.wait(task.name, {
        ...own,
        onProgress: progressFor(onProgress, waitingFor(task.name, waitedFor(own)))
      })
    const now = yield* registry.get(task.name)
    const step = { name: task.name, pid: now.pid ?? pid, status: wait?.status ?? now.status }
    return {
      started: step,
      wait,
      tasks: [step],
      already: kept ? `${owner}; kept from now on` : owner
    } satisfies ProjectStart
  })

export const startProjectTask = Effect.fnUntraced(function*(
  name: string,
  onProgress: WaitRequest["onProgress"],
  /** Keep every task the chain starts: a kept task's dependencies must outlive the session too. */
  keep = false,
  /** What the answer waits for, instead of the task's own waitFor. */
  wanted?: WaitRequest
) {
  const registry = yield* TaskRegistry
  const config = yield* TaskmuxConfig
  const state = yield* (yield* Project).current
  const tasks = state.file?.tasks ?? new Map<string, ProjectTask>()
  const target = tasks.get(name)
  if (target === undefined) {
    const existing = (yield* registry.records).find((t) => t.name === name)
    return yield* new NoSuchProjectTask({
      name,
      known: [...tasks.keys()],
      dir: state.dir,
      ...(state.file !== undefined && { file: state.file.path }),
      ...(existing !== undefined && { task: { status: existing.status, pid: existing.pid } }),
      ...(state.error !== undefined && { why: state.error.message })
    })
  }
  const listed = yield* registry.list
  const live = listed.filter((t) => !isFinished(t.status))
  // Running, or run to success by a chain under way (another start of this chain, a moment before) and
  // needed here only to have succeeded: a migration one has just run is that run here too, not a reason to
  // run it twice. One that crashed or was stopped since runs again, as it would have.
  const underWay = yield* startedUnderWay
  const closure = startOrder(tasks, name)
  const onlySucceeded = (dependency: string) =>
    closure.every((n) => [undefined, "succeeded"].includes(tasks.get(n)?.dependsOn?.[dependency]))
  const justSucceeded = (t: (typeof listed)[number]) =>
    t.name !== name && underWay.has(t.name) && t.status === "exited" && t.exitCode === 0 && onlySucceeded(t.name)
  const running = new Map(listed.filter((t) => !isFinished(t.status) || justSucceeded(t)).map((t) => [t.name, t]))
  // A dependency that runs met its own needs when it started: they are not run again (a migration that
  // succeeded before the api started does not run at every start of the web page in front of it).
  const needed = new Set([name])
  const need = (task: ProjectTask): void => {
    for (const dependency of Object.keys(task.dependsOn ?? {})) {
      if (needed.has(dependency)) continue
      needed.add(dependency)
      if (!running.has(dependency)) need(tasks.get(dependency)!)
    }
  }
  need(target)
  const order = closure.filter((n) => needed.has(n)).map((n) => tasks.get(n)!)
  // The same checks as an ad-hoc start, for every task of the chain, before any starts; and a
  // dependency's name held by another command would never become what the file says it becomes.
  let targetLine = target.command
  for (const task of order) {
    const at = { asked: name, task: task.name, file: state.file!.path }
    const { cwd, line } = yield* checkPolicy((yield* Viewer).policy ?? config, asStartRequest(task)).pipe(
      Effect.catchTags({
        CommandRefused: ({ command, rule }) =>
          Effect.fail(new CommandRefused({ command, rule, chain: { asked: name, task: task.name } })),
        CwdOutsideRoot: ({ cwd, root }) => Effect.fail(new CwdOutsideRoot({ cwd, root, chain: at }))
      })
    )
    // Before any starts: a dependency's missing directory would fail the chain half started.
    const cwdProblem = running.has(task.name) ? undefined : yield* checkDirectory(cwd)
    if (cwdProblem !== undefined) return yield* new InvalidCwd({ cwd, reason: cwdProblem, chain: at })
    if (task.name === name) targetLine = line
    const holder = running.get(task.name)
    if (task.name !== name && holder !== undefined && holder.command !== line) {
      return yield* new DependencyTaken({ name, dependency: task.name, command: holder.command, wanted: line })
    }
  }
  const viewer = yield* Viewer
  const owner = keep || target.keep === true
    ? { session: null, client: null }
    : { session: viewer.id, client: viewer.client() ?? null }
  // Already running as its file says: that is what was asked (compose's `up`), so the answer is that run,
  // ready when its waitFor says so. Running another command under its name: the refusal says whose,
  // and, when the file changed since, what each runs (a restart would run the old one again).
  const holder = running.get(name)
  if (holder !== undefined) {
    // While it waits for another session's run, that run is claimed: that session's end hands it over.
    return yield* whileNeeding(
      owner,
      [name],
      () =>
        registry.start(asStartRequest(target, keep || target.keep === true)).pipe(
          // It ended since the list and runs again: its dependencies were met for the run before.
          Effect.map((started): ProjectStart => ({ started, wait: undefined, tasks: [started] })),
          Effect.catchTag(
            "TaskAlreadyRunning",
            (
              taken
            ): Effect.Effect<
              ProjectStart,
              TaskAlreadyRunning | ProjectTaskChanged | TaskNotFound,
              TaskRegistry | ChainClaims
            > =>
              taken.same === true ?
                alreadyRunning(
                  target,
                  taken.pid,
                  taken.owner,
                  owner,
                  onProgress,
                  wanted ?? waitOf(target)
                ) :
                holder.command !== targetLine ?
                Effect.fail(
                  new ProjectTaskChanged({
                    name,
                    pid: taken.pid,
                    owner: taken.owner,
                    command: holder.command,
                    wanted: targetLine
                  })
                ) :
                Effect.fail(taken)
          )
        )
    )
  }
  // The chain's needs are known while it runs: a session that ends meanwhile hands them over to this one
  // (the task itself too: another session's start of it may get there first, and this one joins that run).
  return yield* whileNeeding(
    owner,
    order.map((t) => t.name),
    (claim) =>
      Effect.gen(function*() {
        const toStart = order.filter((t) => !running.has(t.name))
        if (live.length + toStart.length > config.maxTasks) {
          return yield* new TooManyTasks({
            limit: config.maxTasks,
            chain: { asked: name, starts: toStart.map((t) => t.name), running: live.length }
          })
        }

        const steps: Array<ChainStep> = []
        const startedNow: Array<string> = []
        /** Conditions already met, so a dependency shared by several is waited for once. */
        const met = new Set<string>()
        const ensure = (dependent: ProjectTask, dependency: string, condition: Condition) =>
          Effect.gen(function*() {
            if (met.has(`${dependency}:${condition}`)) return
            const task = tasks.get(dependency)!
            const failed = (outcome: string, lastLines: ReadonlyArray<string>) =>
              Effect.flatMap(registry.list, (now) =>
                Effect.fail(
                  new DependencyFailed({
                    name: dependent.name,
                    dependency,
                    condition,
                    outcome,
                    lastLines,
                    // What this chain leaves running (a dependency that had to succeed has ended).
                    started: startedNow.filter((n) =>
                      n !== dependency && now.some((t) => t.name === n && !isFinished(t.status))
                    )
                  })
                ))
            // Progress names what the chain waits for, from its first moment (a person at `taskmux start` sees it).
            const wanted = condition === "succeeded" ? "succeed" : `become ${condition}` as const
            const waiting = progressFor(onProgress, waitingFor(dependency, wanted))
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
                if (now.status === "failed") return yield* failed(`it could not start (${now.error ?? "failed"})`, [])
              }
            }
            met.add(`${dependency}:${condition}`)
          })

        for (const task of order) {
          const already = running.get(task.name)
          for (const [dependency, condition] of Object.entries(already === undefined ? task.dependsOn ?? {} : {})) {
            yield* ensure(task, dependency, condition)
          }
          if (already !== undefined) {
            steps.push({ name: task.name, pid: already.pid, status: already.status })
            continue
          }
          const request = asStartRequest(task, keep || target.keep === true)
          if (task.name === name) {
            // Another session's start of the same task got there first (two assistants, one `web`): its run,
            // once ready, is this answer too, as when it ran before this call.
            const own = yield* registry.start(request).pipe(
              Effect.catchTag("TaskAlreadyRunning", (taken) => taken.same ? Effect.succeed(taken) : Effect.fail(taken))
            )
            if (own instanceof TaskAlreadyRunning) {
              return yield* alreadyRunning(
                target,
                own.pid,
                own.owner,
                owner,
                onProgress,
                wanted ?? waitOf(target)
              )
            }
            startedNow.push(task.name)
            claim.started.add(task.name)
            steps.push({ name: own.name, pid: own.pid, status: own.status })
            continue
          }
          // Another chain may have started a shared dependency since the list: it is used as it runs.
          let shared = false
          const started = yield* Effect.catchTag(
            registry.start(request),
            "TaskAlreadyRunning",
            (taken) =>
              Effect.sync(() => {
                shared = true
                return { name: task.name, pid: taken.pid, status: "running" as const }
              })
          )
          if (!shared) {
            startedNow.push(task.name)
            claim.started.add(task.name)
          }
          steps.push({ name: started.name, pid: started.pid, status: started.status })
        }
        const last = steps[steps.length - 1]!
        const ownWait = wanted ?? waitOf(target)
        const ownProgress = progressFor(onProgress, waitingFor(name, waitedFor(ownWait)))
        if (ownWait !== undefined && ownProgress !== undefined) yield* ownProgress(0, undefined)
        const wait = ownWait === undefined
          ? undefined
          : yield* registry.wait(name, { ...ownWait, onProgress: ownProgress })
        // The chain as it is now: a dependency that had to succeed has ended, and the target may run
        // anew (another session's restart_task while this start waited for it).
        const tasksNow = yield* chainAsItIs(steps)
        const chain: ProjectStart = {
          started: { name: last.name, pid: tasksNow.at(-1)?.pid ?? last.pid, status: wait?.status ?? last.status },
          wait,
          tasks: tasksNow
        }
        return chain
      })
  )
})

/**
 * A chain's steps as they are now, for its answer: a dependency may have ended since it started (one
 * that had to succeed, one that crashed during the target's look), and one another chain was
 * spawning when this one found it has its pid by now.
 */
export const chainAsItIs = Effect.fnUntraced(function*(steps: ReadonlyArray<ChainStep>) {
  const now = new Map((yield* (yield* TaskRegistry).list).map((t) => [t.name, t]))
  return steps.map((step): ChainStep => ({
    ...step,
    pid: now.get(step.name)?.pid ?? step.pid,
    status: now.get(step.name)?.status ?? step.status
  }))
})
