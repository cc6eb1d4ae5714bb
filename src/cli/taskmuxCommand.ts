/**
 * The commands a person types: `taskmux ps | logs | stop | restart | start | attach | ui`. Each is a thin
 * client of the project's supervisor (it never touches a process itself): it calls one of the tools an
 * assistant calls, and renders the answer for a terminal, or as JSON with --json.
 */
import { Effect, Option, Schedule, type Scope } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import packageJson from "../../package.json" with { type: "json" }
import { lostListed, type LostTask, readLost } from "../daemon/lostRecord.ts"
import { runtimePaths } from "../daemon/runtimePaths.ts"
import { jsonEscapingControls } from "../domain/escapeControls.ts"
import type { TaskStatus } from "../domain/Task.ts"
import { waitedOn } from "../project/chainProgress.ts"
import { definedListed } from "../project/definedListed.ts"
import { nearestProject } from "../project/nearestProject.ts"
import { readProject } from "../project/Project.ts"
import { listenAddress } from "../web/listenAddress.ts"
import { endFailure, isLive, type ListAnswer, notRunYet, runFailure, wentWithSession } from "./answers.ts"
import { attach } from "./attach.ts"
import { CliFailure, ExitCode } from "./CliFailure.ts"
import { CliIo } from "./CliIo.ts"
import { inTerminalWords } from "./inTerminalWords.ts"
import { logs, logsFromFile } from "./logs.ts"
import { leftLine, noSupervisorText, psTable } from "./psTable.ts"
import { style } from "./style.ts"
import { connectClient, projectPaths, type TaskmuxClient } from "./TaskmuxClient.ts"

// Checked in projectDir, in the words the server uses for its own --project.
const project = Flag.String("project").pipe(
  Flag.withDescription(
    "The project whose supervisor to ask (default: TASKMUX_PROJECT, else the nearest directory up from here " +
      "with a task file or a supervisor, else this one)"
  ),
  Flag.optional
)
const json = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON instead of text"), Flag.withDefault(false))
const taskName = Argument.String("name").pipe(Argument.withDescription("The task's name (see taskmux ps)"))

/** `body` with the client, after what its supervisor says of itself (a build since replaced on disk), on stderr. */
const withNotice = <A>(
  client: TaskmuxClient,
  body: (client: TaskmuxClient) => Effect.Effect<A, CliFailure, CliIo | Scope.Scope>
) =>
  Effect.gen(function*() {
    const io = yield* CliIo
    if (client.supervisor.notice !== undefined) io.stderr(`taskmux: ${client.supervisor.notice}\n`)
    return yield* body(client)
  })

const projectDir = (flag: Option.Option<string>) =>
  Effect.gen(function*() {
    const io = yield* CliIo
    // The server's own variable too: a shell that sets it for the server means the same project here.
    const variable = io.env.TASKMUX_PROJECT
    // Said as what was given: a person who typed no --project would look for one.
    const [given, said] = Option.isSome(flag)
      ? [flag.value, `--project ${flag.value}`]
      : [variable, `TASKMUX_PROJECT=${variable}`]
    if (!given) return nearestProject(io.cwd, io.env)
    const stat = fs.statSync(NodePath.resolve(io.cwd, given), { throwIfNoEntry: false })
    // Deleted since its supervisor started (a worktree removed under a kept dev server): reached by its path.
    if (stat === undefined && goneButServed(NodePath.resolve(io.cwd, given), io.env)) return given
    if (stat === undefined) return yield* CliFailure.usage(`${said}: no such directory`)
    if (!stat.isDirectory()) {
      return yield* CliFailure.usage(`${said}: not a directory (give the directory that holds the task file)`)
    }
    return given
  })

/** Whether a supervisor still listens for a project directory that is gone. */
const goneButServed = (project: string, env: NodeJS.ProcessEnv) => {
  try {
    return fs.existsSync(runtimePaths(project, env, { gone: true }).socket)
  } catch {
    return false
  }
}

/**
 * Runs `body` with a session with the project's supervisor. Where none runs: `start` starts one (so
 * does `startsLost` for a `task` the last supervisor lost, which the record on disk names); else `idle`
 * answers (ps), or the command fails saying so, and what became of the task.
 */
const withClient = <A>(
  flag: Option.Option<string>,
  options: {
    readonly start: boolean
    readonly what: string
    readonly task?: string
    readonly startsLost?: boolean
    /** A task the project file defines starts one (restart runs what does not run; logs -f waits for it). */
    readonly startsDefined?: boolean
    readonly idle?: (project: string, lost: ReadonlyArray<LostTask>) => Effect.Effect<A, CliFailure, CliIo>
  },
  body: (client: TaskmuxClient) => Effect.Effect<A, CliFailure, CliIo | Scope.Scope>
) =>
  Effect.scoped(Effect.gen(function*() {
    const dir = yield* projectDir(flag)
    const running = yield* connectClient(dir, options.start && options.task === undefined)
    if (running !== undefined) return yield* withNotice(running, body)
    // None runs: the record on disk says what the last one lost (a running one's names what runs).
    const paths = yield* projectPaths(dir)
    const lost = readLost(paths.record)
    // The project file, read once, where a supervisor may be started for a name it defines.
    const project = options.start || options.startsDefined === true
      ? yield* Effect.promise(() => readProject(paths.project))
      : undefined
    const defined = [...project?.file?.tasks.keys() ?? []]
    if (options.start) {
      // A supervisor is started for a name it could start: one the file defines, or the last one left.
      const known = [...new Set([...defined, ...lost.map((task) => task.name)])]
      if (options.task !== undefined && project?.error === undefined && !known.includes(options.task)) {
        return yield* CliFailure.failed(
          `\`taskmux start\` starts a project task: "${options.task}" is not one` + (known.length === 0
            ? `, and ${paths.project} defines none (a taskmux.yaml or a Procfile there would).`
            : `. Project tasks: ${known.join(", ")}.`)
        )
      }
      const started = yield* connectClient(dir, true)
      if (started !== undefined) return yield* withNotice(started, body)
    }
    const lostTask = lost.find((task) => task.name === options.task)
    const isDefined = options.startsDefined === true && options.task !== undefined && defined.includes(options.task)
    const started = options.startsLost === true && lostTask !== undefined || isDefined
      ? yield* connectClient(dir, true)
      : undefined
    if (started !== undefined) return yield* withNotice(started, body)
    if (options.idle !== undefined) return yield* options.idle(paths.project, lost)
    const fate = lostTask === undefined ? "" : ` ${leftLine(lostTask)}`
    return yield* CliFailure.failed(`No taskmux supervisor runs for ${paths.project}: ${options.what}.${fate}`)
  }))

/** What the project's file calls ready for task `name`, as wait_for_task takes it; none without a waitFor. */
const fileWaitFor = (project: string, name: string) =>
  Effect.map(Effect.promise(() => readProject(project)), (read) => {
    const wait = read.file?.tasks.get(name)?.waitFor
    return wait === undefined ? undefined : { ...wait }
  })

/** The tasks the project's file defines (none where it has no file, or a broken one). */
const definedNames = (project: string) =>
  Effect.map(Effect.promise(() => readProject(project)), (read) => [...read.file?.tasks.keys() ?? []])

/** A tool's answer about task `name`: its text in a terminal's words, or its structured content with --json. */
const printAnswer = (
  answer: { readonly text: string; readonly structured: unknown },
  asJson: boolean,
  name: string
) =>
  Effect.map(
    Effect.service(CliIo),
    (io) =>
      io.stdout(
        asJson ? `${jsonEscapingControls(answer.structured, 2)}\n` : `${inTerminalWords(answer.text, name)}\n`
      )
  )

/** Defined tasks named where none runs: a file of 200 tasks is not one line of 1,600 characters. */
const SHOWN_NAMES = 20

/** The first `max` names, and how many more (`--json` lists them all). */
const namesUpTo = (names: ReadonlyArray<string>, max: number) =>
  names.length <= max ? names.join(", ") : `${names.slice(0, max).join(", ")} and ${names.length - max} more`

const ps = Command.make("ps", { project, json }, (input) =>
  withClient(input.project, {
    start: false,
    what: "",
    idle: (real, lost) =>
      Effect.gen(function*() {
        const io = yield* CliIo
        // What the last one left, and what the file defines, as list_tasks will show them once one runs;
        // a broken file is said now, not at the first start.
        const project = yield* Effect.promise(() => readProject(real))
        const left = new Set(lost.map((task) => task.name))
        const defined = [...project.file?.tasks.values() ?? []].filter((task) => !left.has(task.name))
        const message = noSupervisorText(real, lost) +
          (defined.length === 0 ?
            "" :
            `Its project file defines: ${
              namesUpTo(defined.map((task) => task.name), SHOWN_NAMES)
            } (taskmux start NAME starts one, after what it needs).\n`)
        const error = project.error === undefined ? "" : `No project tasks: ${project.error.message}\n`
        if (input.json) {
          const listed = [...lost.map(lostListed), ...defined.map(definedListed)]
          io.stdout(`${jsonEscapingControls(listed, 2)}\n`)
          io.stderr(message + error)
        } else {
          io.stdout(message)
          io.stderr(error)
        }
      })
  }, (client) =>
    Effect.gen(function*() {
      const io = yield* CliIo
      const { structured } = yield* client.call<ListAnswer>("list_tasks")
      // A broken project file is said on stderr either way: the JSON stays the list scripts read.
      const projectError = () => {
        if (structured.projectError !== undefined) io.stderr(`No project tasks: ${structured.projectError}\n`)
      }
      if (input.json) {
        projectError()
        return io.stdout(`${jsonEscapingControls(structured.tasks, 2)}\n`)
      }
      io.stdout(
        structured.tasks.length === 0
          ? `No tasks in ${client.project}.\n`
          : psTable(structured.tasks, { style: style(io.colour), columns: io.columns, now: Date.now() })
      )
      projectError()
      const { pid, sessions, version, viewers } = client.supervisor
      // Another install's (the first client to start it chose): which taskmux serves is worth a word.
      const other = version === packageJson.version ? "" : ` (taskmux ${version})`
      // What keeps it: a page open, or a client over HTTP (which ends 10 minutes after its last request).
      // Sessions counts the stdio ones only: "0 other sessions" beside a row owned by an HTTP client read wrong.
      const others = `${sessions} other ${viewers > 0 ? "stdio " : ""}session${sessions === 1 ? "" : "s"}`
      const web = viewers > 0 ? ", the page or MCP over HTTP open" : ""
      // A person's footer: in a pipe (`ps | awk 'NR>1 {print $1}'`) it would read as a row.
      const footer = `${client.project}: supervisor pid ${pid}${other}, ${others}${web}`
      if (io.terminal) io.stdout(`${style(io.colour).dim(footer)}\n`)
      else io.stderr(`${style(io.colourErr).dim(footer)}\n`)
    }))).pipe(
    Command.withDescription("List the project's tasks: status, pid, owner, uptime, ports, memory, command")
  )

const logsCommand = Command.make("logs", {
  project,
  json: json.pipe(
    Flag.withDescription("One JSON object per line: { seq, stream, text }; with -f, a last { ended, exitCode, signal }")
  ),
  name: taskName,
  follow: Flag.Boolean("follow").pipe(
    Flag.withAlias("f"),
    Flag.withDescription("Then print new lines as they come, until Ctrl-C or the task's end"),
    Flag.withDefault(false)
  ),
  // Read here, not by Flag.Int: its word for "abc" ("a string representing a finite number") is not ours.
  tail: Flag.String("tail").pipe(
    Flag.withAlias("n"),
    Flag.withMetavar("integer"),
    Flag.withDescription("How many of the last lines to print first"),
    Flag.mapTryCatch(
      (text) => {
        if (!/^\s*-?\d+\s*$/.test(text)) throw new Error("not a whole number")
        return Number(text)
      },
      () => "a number of lines, 0 or more"
    ),
    Flag.withDefault(100)
  )
}, (input) =>
  input.tail < 0
    ? Effect.fail(CliFailure.usage(`--tail ${input.tail}: give a number of lines, 0 or more`))
    : withClient(input.project, {
      start: false,
      what: `no output of "${input.name}" to show`,
      task: input.name,
      // Followed, a project task not run yet is waited for (`taskmux start` in another terminal).
      startsDefined: input.follow,
      // None runs: the log file of a task the last one left holds its output.
      idle: (real, left) => {
        const task = left.find((t) => t.name === input.name)
        return task === undefined || task.logFile === null
          ? Effect.fail(
            CliFailure.failed(`No taskmux supervisor runs for ${real}: no output of "${input.name}" to show.`)
          )
          : logsFromFile(task, input.tail, input.json)
      }
    }, (
      client
    ) =>
      Effect.gen(function*() {
        const io = yield* CliIo
        const run = logs(client, input)
        // Ctrl-C ends following cleanly: the pending calls are cancelled, the session closed, exit 0.
        yield* input.follow ? Effect.raceFirst(run, io.stopRequested) : run
      }))).pipe(Command.withDescription("Print a task's last lines (stderr lines start with \"! \"); -f follows"))

/** How long `taskmux start` and `restart` watch a run that goes on for an end at boot. */
const HUMAN_LOOK_MS = 700

/**
 * Whether `name` is a task no session runs: lost, a project task that has not run (restarting what does
 * not run runs it), or one that went with its session (not listed: forgotten). Run by restart_task, it
 * would be this command's own, and end with it a moment later.
 */
const ownedByNoSession = (client: TaskmuxClient, name: string) =>
  Effect.gen(function*() {
    const listed = (yield* client.call<ListAnswer>("list_tasks")).structured.tasks.find((t) => t.name === name)
    if (listed !== undefined) return listed.status === "lost" || listed.status === "defined"
    return yield* client.call("get_task", { name }).pipe(
      Effect.match({ onFailure: (failure) => wentWithSession(failure), onSuccess: () => false })
    )
  })

/** stop, restart, start: one tool call with the task's name, its answer printed. */
const simple = (
  name: string,
  description: string,
  tool: string,
  options: {
    readonly start: boolean
    readonly what: string
    readonly args?: Record<string, unknown>
    /** Starts a supervisor, where none runs, for a task the last one lost, or one the project file defines. */
    readonly startsLost?: boolean
    /** A run that goes on after the tool's answer is looked at a little longer (start, restart). */
    readonly looksLonger?: boolean
  }
) =>
  Command.make(
    name,
    { project, json, name: taskName },
    (input) =>
      withClient(input.project, {
        start: options.start,
        what: `${options.what} "${input.name}"`,
        task: input.name,
        ...(options.startsLost === true && { startsLost: true, startsDefined: true })
      }, (client) =>
        Effect.flatMap(
          Effect.gen(function*() {
            const io = yield* CliIo
            // A lost task the CLI runs again is kept, as its starts are: its session ends with the command.
            const lost = options.startsLost === true && (yield* ownedByNoSession(client, input.name))
            // What a chain waits for, as it waits: a person would otherwise see nothing for a while. What it
            // waits for was started: a Ctrl-C names those, not a task still waiting on its dependencies.
            const started = new Set<string>()
            const progress = (message: string) => {
              for (const name of waitedOn(message)) started.add(name)
              io.stderr(`${style(io.colourErr).dim(message)}\n`)
            }
            const call = client.call<
              { readonly status?: string; readonly matched?: boolean; readonly already?: boolean }
            >(lost ? "start_task" : tool, { name: input.name, ...(lost ? { keep: true } : options.args) }, progress)
            // Ctrl-C during a start's wait ends the wait, not what was started (kept, it outlives this
            // command): said so.
            const interruptible = <A>(waiting: Effect.Effect<A, CliFailure>) =>
              options.looksLonger !== true ? waiting : Effect.raceFirst(
                waiting,
                Effect.flatMap(io.stopRequested, () => {
                  const names = started.size > 0 ? [...started] : [input.name]
                  return Effect.fail(CliFailure.interrupted(
                    `Stopped waiting; what was started keeps running (taskmux ps shows it, ${
                      names.map((n) => `taskmux stop ${n}`).join(", ")
                    } ${names.length === 1 ? "stops it" : "stop them"}).`
                  ))
                })
              )
            // The ports its run listens on: a restart waits for the new run to listen on them again.
            const listened = tool === "restart_task" && !lost
              ? yield* Effect.orElseSucceed(
                Effect.map(
                  client.call<{ readonly ports?: ReadonlyArray<number> | null }>("get_task", { name: input.name }),
                  (task) => task.structured.ports ?? []
                ),
                () => []
              )
              : []
            const answer = yield* interruptible(call)
            // A restart waits for what the project file calls ready, as a start does, or, where its last run
            // listened, for this one to listen (on any port: one given as 0, or a dev server's that moved, may
            // differ): the tool answers once the new run has started, and says how to wait.
            // "restarting": another restart of it (a second script's) is under way; its new run is waited for too.
            const ready = tool === "restart_task" && !lost &&
                (answer.structured.status === "running" || answer.structured.status === "restarting")
              ? (yield* fileWaitFor(client.project, input.name)) ?? (listened.length > 0 ? { port: "any" } : undefined)
              : undefined
            if (ready !== undefined) {
              const waited = yield* interruptible(
                client.call("wait_for_task", { name: input.name, ...ready }, progress)
              )
              const { hint, ...structured } = answer.structured as { readonly hint?: string }
              const rest = hint === undefined ? "" : withoutWaitAdvice(hint)
              return {
                text: `${withoutWaitAdvice(answer.text)}\n${waited.text}`,
                structured: laterAnswer(
                  rest === "" ? structured : { ...structured, hint: rest },
                  waited.structured as object,
                  input.name
                )
              }
            }
            if (
              !options.looksLonger || answer.structured.status !== "running" || "matched" in answer.structured ||
              answer.structured.already === true
            ) {
              return answer
            }
            // A person waits a moment gladly to hear that it crashed as it booted (a Python traceback takes
            // a few hundred ms), where the tool looks 100 ms for an assistant's sake.
            const ended = yield* client.call<{ readonly status?: string; readonly timedOut?: boolean }>(
              "wait_for_task",
              { name: input.name, exit: true, timeoutMs: HUMAN_LOOK_MS }
            )
            return ended.structured.timedOut === true
              ? answer
              : {
                text: `${answer.text}\n${ended.text}`,
                structured: laterAnswer(answer.structured, ended.structured, input.name)
              }
          }),
          (answer) =>
            Effect.andThen(printAnswer(answer, input.json, input.name), () => {
              const failure = runFailure(answer.structured, input.name)
              return failure === undefined ? Effect.void : Effect.fail(CliFailure.failed(failure))
            })
        ))
  ).pipe(Command.withDescription(description))

/** A restart's answer without its advice on how to wait for the new run, which the command did. */
const withoutWaitAdvice = (text: string) =>
  text.replace(/ ?Its file says when it is ready: .* waits for this run to be\./, "")
    .replace(/ ?Its last run listened on ports? [\d, ]+: .* waits for this one to listen \([^)]*\)\./, "")

/**
 * A start's answer with what a wait after it found: its status then, in the chain's list too (which
 * said "running" of a run that has since crashed).
 */
const laterAnswer = (first: object, later: { readonly status?: string }, name: string): object => {
  const { tasks } = first as { readonly tasks?: ReadonlyArray<{ readonly name: string; readonly status: string }> }
  return {
    ...first,
    ...later,
    ...(tasks !== undefined && later.status !== undefined && {
      tasks: tasks.map((t) => t.name === name ? { ...t, status: later.status } : t)
    })
  }
}

/** One call of `tool` about a task, which a running supervisor answers; its answer printed. */
const callAbout = (
  input: { readonly project: Option.Option<string>; readonly name: string; readonly json: boolean },
  verb: string,
  tool: string,
  args: Record<string, unknown>,
  /** Starts a supervisor, where none runs, for a task the last one left (lost, or ended and kept). */
  startsLost = false
) =>
  withClient(input.project, {
    start: false,
    what: `no task to ${verb} named "${input.name}"`,
    task: input.name,
    ...(startsLost && { startsLost: true })
  }, (client) =>
    Effect.flatMap(client.call(tool, { name: input.name, ...args }), (answer) =>
      printAnswer(answer, input.json, input.name)))

/** A signal as a person types it: SIGINT, INT, int, or its number (2, as kill takes it). */
const signalName = (typed: string) => {
  const number = /^\d+$/.test(typed) ? Number(typed) : undefined
  const named = number === undefined
    ? undefined
    : Object.entries(os.constants.signals).find(([, n]) => n === number)?.[0]
  return named ?? typed.toUpperCase().replace(/^(?!SIG)/, "SIG")
}

/** stop_task's options, for a program that ignores SIGTERM (--force) or wants another signal first. */
const stop = Command.make(
  "stop",
  {
    project,
    json,
    name: taskName,
    force: Flag.Boolean("force").pipe(Flag.withDescription("SIGKILL at once"), Flag.withDefault(false)),
    signal: Flag.String("signal").pipe(
      Flag.withDescription("The signal sent first (default SIGTERM), such as SIGINT or INT"),
      Flag.optional
    ),
    graceMs: Flag.Int("grace-ms").pipe(
      Flag.withDescription(
        "How long to wait for it to end before SIGKILL (default: the supervisor's --kill-grace-ms, 5000 unless set)"
      ),
      Flag.optional
    ),
    dependents: Flag.Boolean("dependents").pipe(
      Flag.withDescription("Stop the project tasks that need it first"),
      Flag.withDefault(false)
    )
  },
  (input) =>
    withClient(input.project, {
      start: false,
      what: "",
      task: input.name,
      // None runs, so nothing runs: done, for a name it knows (as `systemctl stop` of a stopped unit is).
      idle: (real, lost) =>
        Effect.gen(function*() {
          const io = yield* CliIo
          const known = [...new Set([...lost.map((task) => task.name), ...yield* definedNames(real)])]
          if (!known.includes(input.name)) {
            return yield* CliFailure.failed(
              `No taskmux supervisor runs for ${real}: it knows no task named "${input.name}"` +
                (known.length === 0 ? "." : ` (its tasks: ${known.join(", ")}).`)
            )
          }
          // What became of it, when the last supervisor left it.
          const left = lost.find((task) => task.name === input.name)
          notRunning(
            io,
            input,
            "no supervisor runs",
            `No taskmux supervisor runs for ${real}: "${input.name}" is not running; nothing to stop.\n` +
              (left === undefined ? "" : `${leftLine(left)}\n`)
          )
        })
    }, (client) =>
      Effect.flatMap(Effect.service(CliIo), (io) =>
        Effect.raceFirst(
          client.call(
            "stop_task",
            {
              name: input.name,
              ...(input.force && { force: true }),
              ...(Option.isSome(input.signal) && { signal: signalName(input.signal.value) }),
              ...(Option.isSome(input.graceMs) && { graceMs: input.graceMs.value }),
              ...(input.dependents && { dependents: true })
            },
            // A program that ignores SIGTERM keeps a stop waiting out its grace: said as it waits, as restart does.
            (message) => io.stderr(`${style(io.colourErr).dim(message)}\n`)
          ),
          // Ctrl-C ends the wait, not the stop, which the supervisor finishes: said so, as restart says it.
          Effect.flatMap(io.stopRequested, () =>
            Effect.fail(CliFailure.interrupted(
              `Stopped waiting; the stop goes on (taskmux ps shows when "${input.name}" has ended${
                input.force ? "" : `, taskmux stop --force ${input.name} ends it now`
              }).`
            )))
        )).pipe(
          Effect.flatMap((answer) => printAnswer(answer, input.json, input.name)),
          // What does not run (a project task not run yet, one the last supervisor lost or saw end, one
          // gone with its session) is stopped already: done, said, and its state as JSON with --json.
          Effect.catchIf((failure) => failure.exitCode === ExitCode.failed, (failure) =>
            Effect.flatMap(client.call<ListAnswer>("list_tasks"), ({ structured }) => {
              const task = structured.tasks.find((t) => t.name === input.name)
              // A project task that went with its session is listed as defined again: it did run.
              const why = wentWithSession(failure)
                ? "it went with its session"
                : task === undefined
                ? undefined
                : task.status === "defined"
                ? "it has not run yet"
                : task.status === "lost"
                ? "lost with the last supervisor"
                : isLive(task.status)
                ? undefined
                : `it ${task.status}`
              return why === undefined ? Effect.fail(failure) : Effect.map(
                Effect.service(CliIo),
                (io) =>
                  notRunning(io, input, why, `"${input.name}" is not running (${why}); nothing to stop.\n`)
              )
            }))
        ))
).pipe(Command.withDescription("Stop a task and every process it started (SIGTERM, then SIGKILL after a grace)"))
/** A stop of what does not run: done, said on stderr, and its state as JSON with --json. */
const notRunning = (
  io: CliIo["Service"],
  input: { readonly name: string; readonly json: boolean },
  why: string,
  said: string
) => {
  io.stderr(said)
  if (input.json) io.stdout(`${jsonEscapingControls({ name: input.name, stopped: false, why }, 2)}\n`)
}

/** remove_task: a finished task out of the list (a running one stopped first), its log kept unless asked. */
const remove = Command.make(
  "remove",
  {
    project,
    json,
    name: taskName,
    deleteLog: Flag.Boolean("delete-log").pipe(
      Flag.withDescription("Delete its log files too"),
      Flag.withDefault(false)
    )
  },
  (input) => callAbout(input, "remove", "remove_task", input.deleteLog ? { deleteLog: true } : {}, true)
).pipe(Command.withDescription("Take a task out of the list, stopping it first if it runs (its log file stays)"))
const restart = simple("restart", "Stop a task, then run it again (its output is kept)", "restart_task", {
  start: false,
  what: "no task to restart named",
  startsLost: true,
  looksLonger: true
})
const start = simple(
  "start",
  "Start a project task after its dependencies (starts the supervisor if none runs); it keeps running after the CLI exits",
  "start_task",
  // Kept: a task the CLI starts outlives the CLI's session, which ends as the command does.
  { start: true, what: "cannot start", args: { keep: true }, looksLonger: true }
)

/**
 * wait_for_task from a script: `taskmux start api & taskmux wait api --port 4000 && ./e2e`. Exit 0 once
 * ready (a line matched, the port listens; with --exit, once it exited 0), 1 when it timed out, ended
 * before it was ready or ended badly. Without --pattern, --port or --exit: what the project file calls
 * ready. Unlike `logs -f NAME | grep -m1 ready`, it ends when the wait does, whether or not the task
 * prints anything after.
 */
const waitCommand = Command.make(
  "wait",
  {
    project,
    json,
    name: taskName,
    pattern: Flag.String("pattern").pipe(
      Flag.withDescription("Ready once a line matches this regex (JavaScript syntax; (?i) ignores case)"),
      Flag.optional
    ),
    port: Flag.String("port").pipe(
      Flag.withDescription("Ready once it listens on this TCP port (a number, or any)"),
      Flag.optional
    ),
    exit: Flag.Boolean("exit").pipe(
      Flag.withDescription("Wait for its end instead (exit 0 if it exited 0)"),
      Flag.withDefault(false)
    ),
    timeoutMs: Flag.Int("timeout-ms").pipe(
      Flag.withDescription("Give up after this long (default 30000; with --exit 300000; at most 600000)"),
      Flag.optional
    )
  },
  (input) =>
    withClient(input.project, {
      start: false,
      what: `no task to wait for named "${input.name}"`,
      task: input.name,
      // A project task not run yet is waited for (`taskmux start db & taskmux wait db`), as logs -f does.
      startsDefined: true
    }, (client) =>
      Effect.gen(function*() {
        const io = yield* CliIo
        const port = Option.isNone(input.port)
          ? undefined
          : input.port.value === "any"
          ? "any"
          : /^\d+$/.test(input.port.value)
          ? Number(input.port.value)
          : yield* CliFailure.usage(`--port ${input.port.value}: give a port number, or any`)
        const given = {
          ...(Option.isSome(input.pattern) && { pattern: input.pattern.value }),
          ...(port !== undefined && { port }),
          ...(input.exit && { exit: true })
        }
        const what = Object.keys(given).length > 0 ? given : yield* fileWaitFor(client.project, input.name)
        if (what === undefined) {
          return yield* CliFailure.usage(
            `"${input.name}" has no waitFor in the project file: give --pattern, --port or --exit`
          )
        }
        const answer = yield* Effect.raceFirst(
          client.call<{
            readonly status?: TaskStatus
            readonly exitCode?: number | null
            readonly signal?: string | null
            readonly timedOut?: boolean
            readonly matched?: boolean
          }>(
            "wait_for_task",
            { name: input.name, ...what, ...(Option.isSome(input.timeoutMs) && { timeoutMs: input.timeoutMs.value }) }
          ).pipe(Effect.retry({ while: (failure) => notRunYet(failure), schedule: Schedule.spaced("300 millis") })),
          Effect.flatMap(io.stopRequested, () => Effect.fail(CliFailure.interrupted("Stopped waiting.")))
        )
        yield* printAnswer(answer, input.json, input.name)
        const failure = "exit" in what && what.exit === true
          ? endFailure(answer.structured, input.name)
          : runFailure(answer.structured, input.name)
        if (failure !== undefined) return yield* CliFailure.failed(failure)
      }))
).pipe(
  Command.withDescription(
    "Wait until a task is ready (--pattern, --port, or its file's waitFor) or, with --exit, has ended; exit 1 if not"
  )
)

const ui = Command.make(
  "ui",
  {
    project,
    print: Flag.Boolean("print").pipe(
      Flag.withDescription("Print the page's address (its token included) instead of opening a browser"),
      Flag.withDefault(false)
    ),
    readOnly: Flag.Boolean("read-only").pipe(
      Flag.withDescription("A page that only looks: every control disabled, every change refused"),
      Flag.withDefault(false)
    ),
    listen: Flag.String("listen").pipe(
      Flag.withDescription(
        "ADDR[:PORT] to serve on instead of 127.0.0.1 (another interface: anyone who can reach it needs the token)"
      ),
      Flag.optional
    )
  },
  (input) =>
    Effect.gen(function*() {
      // A bad --listen is a usage error, said before a supervisor is asked (or started) for it.
      const address = Option.isSome(input.listen) ? listenAddress(input.listen.value) : undefined
      if (typeof address === "string") return yield* CliFailure.usage(address)
      return yield* withClient(input.project, { start: true, what: "cannot open the page" }, (client) =>
        Effect.gen(function*() {
          const io = yield* CliIo
          const { notice, openUrl, url } = (yield* client.request("taskmux/ui", {
            readOnly: input.readOnly,
            ...(Option.isSome(input.listen) && { listen: input.listen.value })
          })) as { readonly url: string; readonly openUrl: string; readonly notice?: string }
          if (notice !== undefined) {
            io.stderr(`${style(io.colourErr).dim(notice)}\n`)
          }
          if (input.print) {
            return io.stdout(`${url}\n`)
          }
          // A one-time address: a browser's command line is there for every user to read (ps).
          const opened = yield* openBrowser(openUrl)
          io.stdout(
            opened
              ? `Opened the tasks of ${client.project} in your browser.\n`
              : `Open ${url} in a browser (no browser could be started here; taskmux ui --print prints only this).\n`
          )
        }))
    })
).pipe(
  Command.withDescription(
    "Open a live page of the project's tasks in the browser, served by its supervisor on 127.0.0.1"
  )
)

/** Starts the system's browser on `url`, detached; false where there is none (no display, no opener). */
const openBrowser = (url: string) =>
  Effect.promise(() =>
    new Promise<boolean>((resolve) => {
      const opener = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open"
      if (process.platform === "linux" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return resolve(false)
      const child = spawn(opener, [url], { detached: true, stdio: "ignore" })
      child.once("error", () => resolve(false))
      child.once("spawn", () => {
        child.unref()
        resolve(true)
      })
    })
  )

const attachCommand = Command.make(
  "attach",
  { project, name: taskName },
  (input) =>
    withClient(
      input.project,
      { start: false, what: `no task to attach to named "${input.name}"` },
      (client) => attach(client, input.name)
    )
).pipe(
  Command.withDescription(
    "Use a terminal task (terminal: true) from this terminal; Ctrl-] detaches, the task keeps running"
  )
)

export const taskmuxCommand = Command.make("taskmux").pipe(
  Command.withDescription(
    [
      "Look at and steer the tasks of a project's taskmux supervisor from a terminal.",
      "Without a command, taskmux serves MCP on stdio (taskmux --help lists its options).",
      "",
      "Exit codes:",
      "  0    done (ps: also when no supervisor runs; logs -f: also at the task's end, which --json's",
      "       last line says; wait: it is ready; attach: also on Ctrl-] or the task's clean end)",
      "  1    the operation failed: the supervisor answered an error (an unknown task name, ...), or none",
      "       runs, or the output could not be written; start, restart and wait: the task crashed at once,",
      "       was not ready in time, or ended before it was ready; attach: it crashed or failed while attached",
      "  2    usage: an unknown command or flag, a missing argument, attach without a terminal",
      "  130  Ctrl-C (the CLI ends by SIGINT, so a script running it stops too): while start, restart or wait",
      "       waited (what was started keeps running), while stop waited, or while logs -f followed",
      "  129, 143  attach ended by SIGHUP or SIGTERM (the task keeps running)"
    ].join("\n  ")
  ),
  Command.withSubcommands([ps, logsCommand, stop, restart, start, remove, waitCommand, attachCommand, ui]),
  Command.withExamples([
    { command: "taskmux ps", description: "The tasks of the project in the working directory" },
    { command: "taskmux logs -f web --tail 20", description: "The last 20 lines of web, then new ones as they come" },
    { command: "taskmux attach repl", description: "Type into a terminal task; Ctrl-] to detach" },
    { command: "taskmux ui", description: "A live page of the tasks in the browser" }
  ])
)
