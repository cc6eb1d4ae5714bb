/** `taskmux logs NAME [-f] [--tail N]`: a task's last lines, then new ones as they come. */
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { CliFailure } from "../CliFailure.ts"
import { CliIo } from "../CliIo.ts"
import { logs, logsFromFile } from "../logs.ts"
import { json, project, taskName, withClient } from "../withClient.ts"

export const logsCommand = Command.make("logs", {
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
          : logsFromFile(task, input.tail, input.json, input.follow)
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
