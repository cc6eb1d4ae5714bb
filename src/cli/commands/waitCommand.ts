import { Effect, Option, Schedule } from "effect"
import { Command, Flag } from "effect/cli"
import type { TaskStatus } from "../../domain/Task.ts"
import { endFailure, notRunYet, runFailure } from "../answers.ts"
import { CliFailure } from "../CliFailure.ts"
import { CliIo } from "../CliIo.ts"
import { fileWaitFor, json, printAnswer, project, taskName, withClient } from "../withClient.ts"

/**
 * wait_for_task from a script: `taskmux start api & taskmux wait api --port 4000 && ./e2e`. Exit 0 once
 * ready (a line matched, the port listens; with --exit, once it exited 0), 1 when it timed out, ended
 * before it was ready or ended badly. Without --pattern, --port or --exit: what the project file calls
 * ready. Unlike `logs -f NAME | grep -m1 ready`, it ends when the wait does, whether or not the task
 * prints anything after.
 */
export const waitCommand = Command.make(
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
          // An unknown name is the tool's error (exit 1, naming the known tasks), not a flag left out; a
          // project task not run yet is known, and its file gives it no waitFor.
          yield* client.call("get_task", { name: input.name }).pipe(
            Effect.catchIf((failure) => notRunYet(failure), () => Effect.void)
          )
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
