/** The tools that start and end tasks: start, stop, restart, signal, remove. */
import { Effect, Option, Schema, SchemaGetter, Struct } from "effect"
import { unlink } from "node:fs/promises"
import { TaskmuxConfig } from "../../Config.ts"
import { type LostTask, LostTasks, startRequestOf } from "../../daemon/LostTasks.ts"
import { InvalidArguments, TaskAlreadyRunning } from "../../domain/errors.ts"
import { SignalName } from "../../domain/Signals.ts"
import { defaultTimeoutMs, RestartSpec, UpToTenMinutesMs, waitForIssue, WaitForSpec } from "../../domain/StartSpec.ts"
import { compactErrorLine, describeEnd, isFinished, TaskStatus } from "../../domain/Task.ts"
import { DEFAULT_TERMINAL } from "../../domain/TerminalSize.ts"
import { isAlive } from "../../process/isAlive.ts"
import { Project } from "../../project/Project.ts"
import { restartNotes, runningDependents } from "../../project/projectTasks.ts"
import { chainAsItIs, startProjectTask } from "../../project/startProjectTask.ts"
import { askedBy, joinHints } from "../../supervisor/hints.ts"
import type { Started } from "../../supervisor/TaskActor.ts"
import type { TaskRegistry } from "../../supervisor/TaskRegistry.ts"
import { Viewer } from "../../supervisor/Viewer.ts"
import { progressOf, tool, type ToolContext, type ToolEnv, withHeartbeat, withRegistry } from "../Tool.ts"
import { EndedOutput, NameOnly, StartedOutput, TaskName, TerminalCols, TerminalRows } from "./fields.ts"
import { summaryText, type WaitAnswer, waitAnswer, WaitFields, waitRequest, waitText } from "./waits.ts"

const StartOutput = Schema.Struct({
  ...StartedOutput.fields,
  ...Schema.Struct(WaitFields).mapFields(Struct.map(Schema.optionalKey)).fields,
  tasks: Schema.optionalKey(Schema.Array(StartedOutput).annotate({ description: "A project task's chain, in order." })),
  already: Schema.optionalKey(Schema.Boolean.annotate({ description: "It ran already: nothing started." }))
})

/** A variable's value: a number or a boolean is taken as written, as a task file's is ({"PORT": 3000} is "3000"). */
const EnvValue = Schema.Union([Schema.String, Schema.Finite, Schema.Boolean]).pipe(
  Schema.decodeTo(Schema.String, { decode: SchemaGetter.transform(String), encode: SchemaGetter.transform((s) => s) })
)

const startInput = Schema.Struct({
  command: Schema.optionalKey(
    Schema.String.check(Schema.isNonEmpty({ message: "must not be empty (give a program, or a shell line)" })).annotate(
      {
        description: "Shell line, or program with args. Absent: start the project task name."
      }
    )
  ),
  args: Schema.optionalKey(
    Schema.Array(Schema.String).annotate({
      description: "Arguments: run without a shell."
    })
  ),
  name: Schema.optionalKey(TaskName.annotate({ description: "Unique; made up when absent." })),
  cwd: Schema.optionalKey(Schema.String),
  env: Schema.optionalKey(
    Schema.Record(Schema.String, EnvValue).annotate({ description: "Added to its own, e.g. {\"PORT\": \"3000\"}." })
  ),
  // Its fields are described once, in wait_for_task's fields of the same names.
  waitFor: Schema.optionalKey(
    WaitForSpec.annotate({
      description: "Answer once ready, e.g. {\"port\": 5173}, or ended: {\"exit\": true}."
    })
  ),
  notifyOnExit: Schema.optionalKey(Schema.Boolean.annotate({ default: true })),
  terminal: Schema.optionalKey(Schema.Boolean.annotate({
    description: "On a pseudo-terminal: REPLs, prompts, programs that buffer on pipes.",
    default: false
  })),
  cols: Schema.optionalKey(TerminalCols.annotate({ default: DEFAULT_TERMINAL.cols })),
  rows: Schema.optionalKey(TerminalRows.annotate({ default: DEFAULT_TERMINAL.rows })),
  restart: Schema.optionalKey(RestartSpec.annotate({ description: "Run it again when it ends by itself." })),
  keep: Schema.optionalKey(
    Schema.Boolean.annotate({ description: "Outlive this session (else stopped when it ends).", default: false })
  )
})

/** How a start of a project task that runs already ends its word on it (whose it is comes before). */
const NOTHING_STARTED = ": nothing was started."

/**
 * How long a start without waitFor looks for an immediate end before it answers. TASKMUX_EARLY_END_MS
 * lengthens it where "at once" takes longer (a loaded machine's tests: a shell not yet scheduled in 100 ms).
 */
const EARLY_END_MS = Number(process.env.TASKMUX_EARLY_END_MS) > 0 ? Number(process.env.TASKMUX_EARLY_END_MS) : 100

export const startTask = tool<typeof startInput.Type, typeof StartOutput.Type>({
  name: "start_task",
  title: "Start a task",
  description: "Run a command in the background (server, build, watcher; REPLs: terminal: true). Answers at " +
    "once, with its end if it fails at once; waitFor: once ready (a line, a port), or ended (exit: true; " +
    "a protocol task's cancel stops the run).",
  input: startInput,
  output: StartOutput,
  // A shell line may do anything: a client that approves by these hints asks first.
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  canWait: true,
  run: ({ cols, command, rows, terminal, waitFor, ...request }, context) =>
    Effect.gen(function*() {
      const issue = waitFor === undefined ? undefined : waitForIssue(waitFor, "waitFor.")
      if (issue !== undefined) return yield* new InvalidArguments({ tool: "start_task", issue })
      const wait = waitFor === undefined ? undefined : yield* waitRequest("start_task", "waitFor.", waitFor)
      const screen = { terminal, cols, rows }
      return yield* command === undefined
        ? startByName(request, screen, wait, context)
        : startCommand({ ...request, command }, screen, waitFor, wait, context)
    }),
  text: (o, input) => {
    const chain = o.tasks === undefined || o.tasks.length < 2
      ? ""
      : `Project chain: ${o.tasks.map((t) => `${t.name} (${t.status}, pid ${t.pid})`).join(" → ")}.\n`
    const what = o.already === true
      ? `Task "${o.name}" (pid ${o.pid}) was already running as the project file says: nothing was started.`
      : `Started task "${o.name}" (pid ${o.pid}).`
    if (o.already === true && o.matched === undefined) return what
    // Said once: the hint's "It was already running …" is for a client reading the structured answer.
    const said = o.already === true && o.hint?.startsWith("It was already running") === true
      ? o.hint.indexOf(NOTHING_STARTED)
      : -1
    const waited = said === -1 ? o : { ...o, hint: o.hint!.slice(said + NOTHING_STARTED.length).trim() || undefined }
    return o.matched === undefined
      ? `${chain}${what}${earlyEndText(o)}`
      : `${chain}${what} ${
        // Without waitFor, an answer with a wait's fields is an end seen within EARLY_END_MS, or a
        // project task's own waitFor (its file's): ready while it runs, else its end.
        waitText(
          waited as Omit<WaitAnswer, "name">,
          o.name,
          input.waitFor ?? (input.command === undefined && !isFinished(o.status) ? {} : { exit: true })
        )}`
  }
})

type StartRequest = Omit<typeof startInput.Type, "cols" | "command" | "rows" | "terminal" | "waitFor">
/** The terminal's fields as given (each may be absent). */
interface Screen {
  readonly terminal: boolean | undefined
  readonly cols: number | undefined
  readonly rows: number | undefined
}
type Wait = Effect.Success<ReturnType<typeof waitRequest>>

/** `start_task { name }`: a task a past supervisor (or session) left, run as its record says, or a project task after its chain. */
const startByName = (request: StartRequest, screen: Screen, wait: Wait | undefined, context: ToolContext) =>
  withRegistry((r) =>
    Effect.gen(function*() {
      const { keep, name, ...rest } = request
      if (name === undefined) {
        return yield* new InvalidArguments({
          tool: "start_task",
          issue: "command is required (or name alone, to start a project task: list_tasks shows them as defined)"
        })
      }
      const given = { ...rest, ...screen }
      const extra = Object.keys(given).filter((key) => given[key as keyof typeof given] !== undefined)
      if (extra.length > 0) {
        return yield* new InvalidArguments({
          tool: "start_task",
          issue: `${extra.join(", ")} cannot be given without a command: a task started by its name alone (a ` +
            "project task, or one a past supervisor left) runs as its file or its record says; only keep and " +
            "waitFor go with it"
        })
      }
      const lost = yield* recorded(r, name)
      if (lost !== undefined && !(yield* isProjectTask(name))) {
        const started = yield* startLost(lost, keep === true)
        if (wait === undefined) return yield* answerEarlyEnd(r, started)
        const { name: _, ...waited } = waitAnswer(
          yield* r.wait(name, { ...wait, since: "run", onProgress: progressOf(context, wait.timeoutMs) })
        )
        return { ...started, ...waited }
      }
      // A lost project task runs as its file says, kept if it was.
      const chain = yield* startProjectTask(
        name,
        progressOf(context, wait?.timeoutMs ?? defaultTimeoutMs(false)),
        keep === true || lost?.session === null,
        wait === undefined ? undefined : { ...wait, since: "run" }
      )
      const already = chain.already === undefined
        ? {}
        : {
          already: true,
          // Whose it is, when not the caller's own ("" then).
          hint: `It was already running${chain.already === "" ? "" : ` (${chain.already})`}${NOTHING_STARTED}`
        }
      if (chain.wait === undefined) {
        if (chain.already !== undefined) return { ...chain.started, ...already }
        const started = yield* answerEarlyEnd(r, chain.started)
        // Read after the target's look: a dependency may have ended in it (a command not found).
        return { ...started, tasks: yield* chainAsItIs(chain.tasks) }
      }
      const { name: _, ...waited } = waitAnswer(chain.wait)
      // Both said: that it ran already, and what its wait found (a timeout's hint).
      return { ...chain.started, ...waited, tasks: chain.tasks, ...already, ...joinHints(already, waited) }
    })
  )

/** `start_task { command }`: a task of the caller's own. */
const startCommand = (
  request: StartRequest & { readonly command: string },
  { cols, rows, terminal }: Screen,
  waitFor: typeof startInput.Type["waitFor"],
  wait: Wait | undefined,
  context: ToolContext
) =>
  withRegistry((r) =>
    Effect.gen(function*() {
      const { command } = request
      const unusable = unusableText(command, request.args, request.env)
      if (unusable !== undefined) return yield* new InvalidArguments({ tool: "start_task", issue: unusable })
      if (terminal !== true && (cols !== undefined || rows !== undefined)) {
        return yield* new InvalidArguments({
          tool: "start_task",
          issue: "cols and rows size a terminal: pass them with terminal: true"
        })
      }
      const started = yield* r.start({
        ...request,
        command,
        ...(terminal === true &&
          { terminal: { cols: cols ?? DEFAULT_TERMINAL.cols, rows: rows ?? DEFAULT_TERMINAL.rows } })
      }).pipe(
        // The same command again: a wait for its end is what a retried build wants; a server's start, the run it has.
        Effect.mapError((e) =>
          e._tag === "TaskAlreadyRunning" && e.same === true
            ? new TaskAlreadyRunning({ ...e, exitWait: waitFor?.exit === true })
            : e
        )
      )
      // A project task's name taken by a command: it runs instead of the file's task while listed.
      const shadows = request.name !== undefined && (yield* isProjectTask(started.name))
        ? {
          hint: `"${started.name}" is also a project task's name: this command runs under it, and list_tasks ` +
            "shows it instead of the file's task until it is removed (remove_task)."
        }
        : {}
      // keep promises a task that outlives the session: alone, this server cannot keep that promise.
      const alone = request.keep === true && (yield* TaskmuxConfig).isolated
        ? { hint: "keep: this server runs alone (--isolated), so this task ends with this session all the same." }
        : {}
      if (wait === undefined) return { ...shadows, ...alone, ...yield* answerEarlyEnd(r, started) }
      const waiting = r.wait(started.name, { ...wait, since: 0, onProgress: progressOf(context, wait.timeoutMs) })
      const { name: _, ...waited } = waitAnswer(
        yield* wait.exit
          // A run cancelled as a protocol task is a run the client no longer wants.
          ? Effect.onInterrupt(
            waiting,
            () =>
              context.cancelStopsRun?.() === true
                ? Effect.flatMap(Viewer, (viewer) =>
                  Effect.ignore(r.stop(started.name, { by: askedBy("tasks/cancel", viewer) })))
                : Effect.void
          )
          : waiting
      )
      // The run the wait saw: another session's restart_task (or a restart policy) may have replaced the
      // one this call started while it waited.
      const now = yield* Effect.option(r.get(started.name))
      const pid = (Option.isSome(now) ? now.value.pid : null) ?? started.pid
      return { ...shadows, ...alone, ...started, pid, ...waited }
    })
  )

/** What exec cannot take: a NUL byte ends a C string, and a variable's name stops at its first "=". */
const unusableText = (
  command: string,
  args: ReadonlyArray<string> | undefined,
  env: Readonly<Record<string, string>> | undefined
) => {
  if (command.trim() === "") return "command is only whitespace: give a program, or a shell line"
  if (command.includes("\0")) return "command contains a NUL byte (\\u0000), which no program can be given"
  const arg = args?.findIndex((a) => a.includes("\0")) ?? -1
  if (arg >= 0) return `args[${arg}] contains a NUL byte (\\u0000), which no program can be given`
  for (const [name, value] of Object.entries(env ?? {})) {
    if (name === "" || name.includes("=") || name.includes("\0")) {
      return `env name ${JSON.stringify(name)} cannot be a variable's name: it must be non-empty, without "=" or NUL`
    }
    if (value.includes("\0")) return `env.${name} contains a NUL byte (\\u0000), which no program can be given`
  }
  return undefined
}

const isProjectTask = (name: string) =>
  Effect.gen(function*() {
    const project = yield* (yield* Project).current
    return project.file?.tasks.has(name) === true
  })

/** What a task of this name ran as, to run it again: lost with a dead supervisor, or gone with its session. */
const recorded = (r: TaskRegistry["Service"], name: string) =>
  Effect.map(Effect.service(LostTasks), (lost) => lost.get(name) ?? r.gone(name))

const startLost = (lost: LostTask, keep: boolean) =>
  withRegistry((r) =>
    Effect.andThen(
      lastRunGone(lost),
      Effect.tap(
        r.start(startRequestOf(lost, keep)),
        () => Effect.flatMap(Effect.service(LostTasks), (l) => Effect.sync(() => l.forget(lost.name)))
      )
    )
  )

/**
 * How long a lost task's start waits for its last run to be gone. A supervisor killed a moment ago left
 * it to its watchdog (SIGTERM, then SIGKILL half a second later): started at once, a dev server would
 * find its port held by the run before it, and two copies of a job would run.
 */
const LOST_RUN_END_MS = 3_000

const lastRunGone = (lost: LostTask) =>
  Effect.gen(function*() {
    if (lost.pid === null || isFinished(lost.status)) return
    const until = performance.now() + LOST_RUN_END_MS
    while (isAlive(lost.pid) && performance.now() < until) yield* Effect.sleep("50 millis")
  })

/** A start without waitFor looks briefly for an immediate end (a typo, a missing file) and says so in its answer. */
const answerEarlyEnd = (r: TaskRegistry["Service"], started: Started) =>
  Effect.map(r.endedWithin(started.name, EARLY_END_MS), (ended) => {
    // Still running, or run again by its restart policy (after a run that ended at once: how it did).
    if (!("matched" in ended)) {
      const { endedAtOnce, hint, status } = ended
      return {
        ...started,
        status,
        ...(endedAtOnce !== undefined && {
          exitCode: endedAtOnce.exitCode,
          signal: endedAtOnce.signal,
          lastLines: [...endedAtOnce.lastLines],
          ...(endedAtOnce.errorLines.length > 0 && { errorLines: endedAtOnce.errorLines.map(compactErrorLine) })
        }),
        ...(hint !== undefined && { hint })
      }
    }
    const { name: _, ...waited } = waitAnswer(ended)
    return { ...started, ...waited }
  })

export const stopTask = tool({
  name: "stop_task",
  title: "Stop a task",
  description: "End a task and every process it started: the signal, then SIGKILL after graceMs; answers once " +
    "all are gone.",
  input: Schema.Struct({
    name: TaskName,
    signal: Schema.optionalKey(SignalName.annotate({ description: "Sent first.", default: "SIGTERM" })),
    graceMs: Schema.optionalKey(UpToTenMinutesMs.annotate({ description: "Then SIGKILL.", default: 5000 })),
    force: Schema.optionalKey(Schema.Boolean.annotate({ description: "SIGKILL at once.", default: false })),
    dependents: Schema.optionalKey(Schema.Boolean.annotate({
      description: "First the project tasks that need it.",
      default: false
    }))
  }),
  output: Schema.Struct({
    ...EndedOutput.fields,
    dependents: Schema.optionalKey(Schema.Array(Schema.String)),
    hint: Schema.optionalKey(Schema.String)
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  canWait: true,
  run: ({ dependents, name, ...request }, context) =>
    withRegistry((r) =>
      Effect.gen(function*() {
        if (request.force === true && (request.signal !== undefined || request.graceMs !== undefined)) {
          return yield* new InvalidArguments({
            tool: "stop_task",
            issue: `force: true sends SIGKILL at once, so ${
              request.signal !== undefined ? `signal ${request.signal}` : `graceMs ${request.graceMs}`
            } would not be used; give force alone, or signal and graceMs for a stop that lets it clean up`
          })
        }
        const first = dependents === true ? yield* runningDependents(name) : []
        const { endedBefore, runsAgain, stuck, ...ended } = yield* withHeartbeat(
          context,
          request.graceMs ?? (yield* TaskmuxConfig).killGraceMs,
          "for its processes to end",
          Effect.andThen(Effect.forEach(first, (d) => r.stop(d, request), { discard: true }), r.stop(name, request))
        )
        // What still runs and needs it: a stop that leaves them failing should say so.
        const needing = dependents === true ? [] : yield* runningDependents(name)
        // Who needs what is the project file's word: a broken one says nothing, which is said.
        const fileError = (yield* (yield* Project).current).error
        const hints = joinHints(
          {
            hint: fileError !== undefined && dependents === true
              ? `The project file is not usable now (${fileError.message}): what needs "${name}" could not be known.`
              : undefined
          },
          {
            hint: endedBefore &&
              `It had already ended (at ${endedBefore}): ${
                first.length > 0 ? "only what needed it was stopped" : "nothing was stopped"
              }.`
          },
          {
            hint: needing.length === 0 ? "" : `Still running, and they need it: ${needing.join(", ")} ` +
              "(dependents: true stops them first)."
          },
          {
            hint: runsAgain &&
              "It runs again now: a restart or start sent while this stop waited came next (get_task shows the new run)."
          },
          { hint: stuck && `Not all gone: ${stuck}.` }
        )
        return { ...ended, ...(dependents === true && { dependents: first }), ...hints }
      })
    ),
  text: (o) =>
    `Task "${o.name}": ${describeEnd(o.status, o.exitCode, o.signal)}.${
      o.dependents !== undefined && o.dependents.length > 0 ? ` Stopped first: ${o.dependents.join(", ")}.` : ""
    }${o.hint === undefined ? "" : ` ${o.hint}`}`
})

/** A restart's answer: the new run, and how it ended if it did at once (as a start's answer says). */
const RestartOutput = Schema.Struct({
  ...StartedOutput.fields,
  ...Struct.pick(StartOutput.fields, ["exitCode", "signal", "lastLines", "errorLines", "hint"])
})

/** A restarted run that answers at once listens later: how to wait for it, where its last run listened. */
const readyAgainNote = (
  o: { readonly name: string; readonly status: string; readonly listenedOn?: ReadonlyArray<number> }
) =>
  o.status !== "running" || o.listenedOn === undefined ?
    undefined :
    `Its last run listened on ${o.listenedOn.length === 1 ? "port" : "ports"} ${
      o.listenedOn.join(", ")
    }: wait_for_task ${
      JSON.stringify({ name: o.name, port: "any" })
    } waits for this one to listen (a port of its own may differ: given as 0, or taken).`

export const restartTask = tool({
  name: "restart_task",
  title: "Restart a task",
  description: "Stop a task if running and start it again; its output and cursors stay.",
  input: NameOnly,
  output: RestartOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  canWait: true,
  run: ({ name }, context) =>
    withRegistry((r) =>
      Effect.gen(function*() {
        const { killGraceMs } = yield* TaskmuxConfig
        const before = yield* Effect.option(r.get(name))
        // The ports its run listened on: the new run answers at once, before it listens again.
        const ports = before.pipe(Option.map((t) => t.ports ?? []), Option.getOrElse(() => []))
        const started = yield* withHeartbeat(
          context,
          killGraceMs,
          "for its processes to end, then its new run",
          r.restart(name)
        ).pipe(
          // Its new run could not start (its program deleted, a limit): the one it had is gone all the same.
          Effect.mapError((error) =>
            (error._tag === "SpawnFailed" || error._tag === "TerminalUnavailable") &&
              Option.exists(before, (t) => t.status === "running" || t.status === "restarting")
              ? {
                _tag: error._tag,
                message: `${error.message} Its run before was stopped, so it is not running now: restart_task ` +
                  "again once it can start."
              }
              : error
          )
        )
        return ports.length === 0 ? started : { ...started, listenedOn: ports }
      }).pipe(
        // A task a dead supervisor lost, or one that went with its session (the conversation before a
        // compaction), runs again with its recorded command; a project task as its file says, after its
        // dependencies, kept if it was.
        Effect.catchTag(
          "TaskNotFound",
          (notFound) =>
            Effect.gen(function*(): Effect.fn.Return<Started, { readonly message: string }, ToolEnv> {
              const lost = yield* recorded(r, name)
              if (lost === undefined) return yield* notFound
              if (!(yield* isProjectTask(name))) {
                return yield* startLost(lost, false)
              }
              return (yield* startProjectTask(name, undefined, lost.session === null)).started
            })
        ),
        // A command that no longer runs (a file deleted, a typo edited in) ends at once: the answer says so.
        Effect.flatMap((started) => answerEarlyEnd(r, started)),
        // A project task: what its file says otherwise now, what it needs that does not run, when it is ready.
        Effect.flatMap((o) =>
          Effect.map(
            restartNotes(name, o.exitCode === undefined),
            (notes) => ({ ...o, ...joinHints(o, { hint: notes ?? readyAgainNote(o) }) })
          )
        ),
        Effect.map((o): typeof RestartOutput.Type =>
          Struct.pick(o, ["name", "pid", "status", "exitCode", "signal", "lastLines", "errorLines", "hint"])
        )
      )
    ),
  text: (o) => `Restarted task "${o.name}" (pid ${o.pid}).${earlyEndText(o)}`
})

/**
 * After "Started"/"Restarted": how a run that ended at once ended (restarting: its policy runs it again),
 * what taskmux can tell of it, and its summary; nothing for a run that goes on.
 */
const earlyEndText = (o: Omit<typeof RestartOutput.Type, "name" | "pid">) =>
  `${
    o.exitCode === undefined ? "" : ` It ended at once (${
      describeEnd(
        o.status === "restarting" ? o.exitCode === 0 ? "exited" : "crashed" : o.status,
        o.exitCode,
        o.signal ?? null
      )
    })${o.status === "restarting" ? "; its restart policy runs it again" : ""}.`
  }${o.hint === undefined ? "" : ` ${o.hint}`}${
    o.lastLines === undefined ? "" : summaryText({ ...o, lastLines: o.lastLines })
  }`

export const signalTask = tool({
  name: "signal_task",
  title: "Signal a task",
  description: "Signal every process of a running task: SIGINT for Ctrl-C, SIGHUP to reload, SIGSTOP/SIGCONT to pause.",
  input: Schema.Struct({ name: TaskName, signal: SignalName }),
  output: Schema.Struct({ name: Schema.String, status: TaskStatus }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  run: ({ name, signal }) =>
    withRegistry((r) => Effect.map(r.signal(name, signal), (e) => ({ name: e.name, status: e.status }))),
  text: (o, { signal }) =>
    `Signal sent; task "${o.name}" ${
      o.status === "running" || o.status === "restarting" ? `is ${o.status}` : `has ended (${o.status})`
    }${
      o.status === "running" && signal === "SIGSTOP"
        ? ", paused: it does nothing until SIGCONT (stop_task still ends it)"
        : ""
    }.`
})

export const removeTask = tool({
  name: "remove_task",
  title: "Remove a task",
  description: "Stop a task if running and forget it; its log files stay.",
  input: Schema.Struct({
    name: TaskName,
    deleteLog: Schema.optionalKey(Schema.Boolean.annotate({ description: "Its log files too.", default: false }))
  }),
  output: Schema.Struct({ name: Schema.String, removed: Schema.Literal(true) }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  run: ({ deleteLog, name }) =>
    withRegistry((r) =>
      r.remove(name, deleteLog).pipe(
        // One a past supervisor lost, or one gone with its session: forgotten (a model tidying up).
        Effect.catchTag("TaskNotFound", (notFound) =>
          Effect.flatMap(Effect.service(LostTasks), (lost) => {
            const lostTask = lost.get(name)
            const task = lostTask ?? r.forgetGone(name)
            lost.forget(name)
            if (task === undefined) return Effect.fail(notFound)
            // Its one log file, as the record knows it.
            return deleteLog === true && task.logFile !== null
              ? Effect.promise(() => unlink(task.logFile!).catch(() => undefined))
              : Effect.void
          })),
        Effect.as({ name, removed: true as const })
      )
    ),
  text: (o) => `Removed task "${o.name}".`
})
