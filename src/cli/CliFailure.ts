/**
 * Why a command did not do what was asked, with the exit code that says so: 1 the operation failed
 * (the supervisor answered an error, or none runs), 2 the command line or the terminal does not fit.
 */
import { Schema } from "effect"

export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const

export class CliFailure extends Schema.TaggedError<CliFailure>()("CliFailure", {
  message: Schema.String,
  exitCode: Schema.Literals([ExitCode.failed, ExitCode.usage])
}) {
  static failed(message: string) {
    return new CliFailure({ message, exitCode: ExitCode.failed })
  }

  static usage(message: string) {
    return new CliFailure({ message, exitCode: ExitCode.usage })
  }
}
