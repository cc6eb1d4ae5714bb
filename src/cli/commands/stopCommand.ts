/** `taskmux stop NAME`: the task and every process it started; what does not run is stopped already. */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as os from "node:os"
import { jsonEscapingControls } from "../../domain/escapeControls.ts"
import { isLive, type ListAnswer, wentWithSession } from "../answers.ts"
import { CliFailure, ExitCode } from "../CliFailure.ts"
import { CliIo } from "../CliIo.ts"
import { leftLine } from "../psTable.ts"
import { style } from "../style.ts"
import { definedNames, json, printAnswer, project, taskName, withClient } from "../withClient.ts"

/** A signal as a person types it: SIGINT, INT, int, or its number (2, as kill takes it). */
const signalName = (typed: string) => {
  const number = /^\d+$/.test(typed) ? Number(typed) : undefined
  const named = number === undefined
    ? undefined
    : Object.entries(os.constants.signals).find(([, n]) => n === number)?.[0]
  return named ?? typed.toUpperCase().replace(/^(?!SIG)/, "SIG")
}

/** stop_task's options, for a program that ignores SIGTERM (--force) or wants another signal first. */
export const stopCommand = Command.make(
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
