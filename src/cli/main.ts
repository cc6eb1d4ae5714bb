/**
 * The CLI's entry: parse argv with Effect's CLI module, run the command, and answer with the exit
 * code (0 done, 1 failed, 2 usage) instead of exiting, so the caller decides how the process ends.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Effect, Exit, Layer } from "effect"
import { CliConfig, CliError, CliOutput, Command, GlobalFlag } from "effect/cli"
import packageJson from "../../package.json" with { type: "json" }
import { jsonEscapingControls } from "../domain/escapeControls.ts"
import { CliFailure, ExitCode } from "./CliFailure.ts"
import { CliIo, sigintSeen, stdoutFailure } from "./CliIo.ts"
import { inTerminalWords } from "./inTerminalWords.ts"
import { taskmuxCommand } from "./taskmuxCommand.ts"

/**
 * Help on stdout when asked for, usage errors on stderr; coloured only where that stream is a terminal.
 * A usage error's words, uncoloured, go to `invalid` too (--json says them on stdout).
 */
const presenter = (io: CliIo["Service"], invalid: (message: string) => void): CliOutput.Presenter => {
  const formatter = CliOutput.defaultFormatter({ colors: io.colour, globalFlags: "summary" })
  const errFormatter = CliOutput.defaultFormatter({ colors: io.colourErr, globalFlags: "summary" })
  const plainFormatter = CliOutput.defaultFormatter({ colors: false, globalFlags: "summary" })
  return {
    present: (event) =>
      Effect.sync(() => {
        switch (event._tag) {
          case "Help":
            return event.reason === "Requested"
              // "taskmux --help" is the MCP server's options: the CLI's own help is "taskmux help".
              ? io.stdout(`${formatter.formatHelpDoc(event.helpDoc).replace("'taskmux --help'", "'taskmux help'")}\n`)
              : io.stderr(`${errFormatter.formatHelpDoc(event.helpDoc)}\n`)
          case "InvalidInvocation":
            invalid(plainFormatter.formatErrors(event.errors).trim())
            return io.stderr(
              `${errFormatter.formatErrors(event.errors)}\nUsage: ${event.helpDoc.usage}\n` +
                `(${event.commandPath.join(" ")} --help says more)\n`
            )
          case "Version":
            return io.stdout(`${formatter.formatVersion(event.name, event.version)}\n`)
        }
      })
  }
}

/**
 * What an ended command means as an exit code; says what went wrong on stderr, and with --json, where
 * the command printed no answer (or follows, a line at a time), also as `{ error, exitCode }` on stdout:
 * a script's `| jq` reads one JSON document either way.
 */
const exitCode = (
  io: CliIo["Service"],
  exit: Exit.Exit<void, unknown>,
  json: boolean,
  invalid: string | undefined
): number => {
  if (Exit.isSuccess(exit)) return ExitCode.ok
  if (Cause.hasInterruptsOnly(exit.cause)) return 130
  const error = Cause.squash(exit.cause)
  // Parse errors were shown by the presenter on stderr; a script's `| jq` still reads one document.
  if (CliError.isCliError(error)) {
    if (json) io.stdout(`${jsonEscapingControls({ error: invalid ?? error.message, exitCode: ExitCode.usage })}\n`)
    return ExitCode.usage
  }
  const [message, code] = error instanceof CliFailure
    ? [error.task === undefined ? error.message : inTerminalWords(error.message, error.task), error.exitCode]
    : [`taskmux: ${error instanceof Error ? error.message : String(error)}`, ExitCode.failed]
  io.stderr(`${message}\n`)
  if (json) io.stdout(`${jsonEscapingControls({ error: message.trim(), exitCode: code })}\n`)
  return code
}

const run = Command.runWith(taskmuxCommand, { version: packageJson.version })

/** Runs one command (`argv` without the program: `["ps", "--json"]`) with `io`. */
export const runCliWith = (argv: ReadonlyArray<string>, io: Layer.Layer<CliIo>): Promise<number> =>
  Effect.runPromise(
    Effect.gen(function*() {
      const cli = yield* CliIo
      // Whether the command printed its answer: then a failure's JSON would be a second document;
      // unless what it prints is a stream of JSON lines, which a failure ends as its last line.
      let printed = false
      let stream = false
      let invalid: string | undefined
      const counting: CliIo["Service"] = {
        ...cli,
        stdout: (text) => {
          printed = true
          cli.stdout(text)
        },
        streaming: () => stream = true
      }
      const exit = yield* Effect.exit(
        run(argv).pipe(
          Effect.provideService(CliIo, counting),
          Effect.provideService(CliOutput.Presenter, presenter(cli, (message) => invalid = message)),
          Effect.provideService(
            CliConfig.CliConfig,
            CliConfig.make({ builtIns: [GlobalFlag.Help, GlobalFlag.Version] })
          )
        )
      )
      return exitCode(cli, exit, argv.includes("--json") && (!printed || stream), invalid)
    }).pipe(Effect.provide(Layer.merge(NodeServices.layer, io)))
  )

/** Runs one command on this process's terminal; resolves to its exit code (it never exits the process). */
export const runCli = (argv: ReadonlyArray<string>): Promise<number> => runCliWith(argv, CliIo.layer)

/**
 * Runs one command as this process, and ends it as a command line tool ends: exit 1 where its output
 * could not be written (a full disk: `echo x >/dev/full` fails so too), and by SIGINT itself after a
 * Ctrl-C, so that a shell running it in a loop or a script stops there too (bash goes on after a program
 * that exits, even with 130).
 */
export const runCliProcess = async (argv: ReadonlyArray<string>): Promise<void> => {
  const code = await runCli(argv)
  const failure = stdoutFailure()
  if (failure !== undefined && code === ExitCode.ok) {
    process.stderr.write(`taskmux: cannot write its output: ${failure.message}\n`)
    process.exitCode = ExitCode.failed
    return
  }
  process.exitCode = code
  // Nothing listens for it any more: the default action ends the process, once stdout has been written.
  if (sigintSeen()) process.stdout.write("", () => process.kill(process.pid, "SIGINT"))
}
