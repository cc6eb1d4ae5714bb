/**
 * `taskmux start NAME` (a project task after its dependencies, kept) and `taskmux restart NAME`: one tool
 * call, then a look at the new run a person waits for gladly (its file's readiness, or a crash at boot).
 */
import { Effect } from "effect"
import { Command } from "effect/cli"
import { waitedOn } from "../../project/chainProgress.ts"
import { type ListAnswer, runFailure, wentWithSession } from "../answers.ts"
import { CliFailure } from "../CliFailure.ts"
import { CliIo } from "../CliIo.ts"
import { style } from "../style.ts"
import { type TaskmuxClient } from "../TaskmuxClient.ts"
import { fileWaitFor, json, printAnswer, project, taskName, withClient } from "../withClient.ts"

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

/**
 * start or restart: one tool call with the task's name, its answer printed; a run that goes on after it is
 * looked at a little longer (a restart: until it is ready again).
 */
const startOrRestart = (
  name: string,
  description: string,
  tool: string,
  options: {
    readonly start: boolean
    readonly what: string
    readonly args?: Record<string, unknown>
    /** Starts a supervisor, where none runs, for a task the last one lost, or one the project file defines. */
    readonly startsLost?: boolean
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
              Effect.raceFirst(
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
            // The ports its run listens on: a restart waits for the new run to listen on them again; and
            // its command line: the file's ready line is only that of the file's command.
            const run = tool === "restart_task" && !lost
              ? yield* Effect.orElseSucceed(
                Effect.map(
                  client.call<{ readonly ports?: ReadonlyArray<number> | null; readonly command?: string }>(
                    "get_task",
                    { name: input.name }
                  ),
                  (task) => ({ listened: task.structured.ports ?? [], command: task.structured.command })
                ),
                () => ({ listened: [], command: undefined })
              )
              : { listened: [], command: undefined }
            const answer = yield* interruptible(call)
            // A restart waits for what the project file calls ready, as a start does, or, where its last run
            // listened, for this one to listen (on any port: one given as 0, or a dev server's that moved, may
            // differ): the tool answers once the new run has started, and says how to wait.
            // "restarting": another restart of it (a second script's) is under way; its new run is waited for too.
            const ready = tool === "restart_task" && !lost &&
                (answer.structured.status === "running" || answer.structured.status === "restarting")
              ? (yield* fileWaitFor(client.project, input.name, run.command)) ??
                (run.listened.length > 0 ? { port: "any" } : undefined)
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
              answer.structured.status !== "running" || "matched" in answer.structured ||
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

export const restartCommand = startOrRestart(
  "restart",
  "Stop a task, then run it again (its output is kept)",
  "restart_task",
  { start: false, what: "no task to restart named", startsLost: true }
)
export const startCommand = startOrRestart(
  "start",
  "Start a project task after its dependencies (starts the supervisor if none runs); it keeps running after the CLI exits",
  "start_task",
  // Kept: a task the CLI starts outlives the CLI's session, which ends as the command does.
  { start: true, what: "cannot start", args: { keep: true } }
)
