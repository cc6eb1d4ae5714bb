/**
 * Why a command did not do what was asked, with the exit code that says so: 1 the operation failed
 * (the supervisor answered an error, or none runs), 2 the command line or the terminal does not fit.
 */
import { Schema } from "effect"

export const ExitCode = { ok: 0, failed: 1, usage: 2, hangup: 129, interrupted: 130, terminated: 143 } as const

export class CliFailure extends Schema.TaggedError<CliFailure>()("CliFailure", {
  message: Schema.String,
  exitCode: Schema.Literals([
    ExitCode.failed,
    ExitCode.usage,
    ExitCode.hangup,
    ExitCode.interrupted,
    ExitCode.terminated
  ]),
  /** The message is a tool's error about this task ("": none named), printed in a terminal's words (inTerminalWords). */
  task: Schema.optionalKey(Schema.String),
  /** A tool's error: its tag, as its answer carries it (none from a supervisor of an earlier build). */
  tag: Schema.optionalKey(Schema.String),
  /** A tool's error about a task with a log file: that file. */
  logFile: Schema.optionalKey(Schema.String)
}) {
  static failed(message: string) {
    return new CliFailure({ message, exitCode: ExitCode.failed })
  }

  /** A tool's error about the task named `task` (none for a call without a name), with its tag and log file. */
  static fromTool(message: string, task: unknown, meta: { readonly tag?: string; readonly logFile?: string } = {}) {
    return new CliFailure({
      message,
      exitCode: ExitCode.failed,
      task: typeof task === "string" ? task : "",
      ...(meta.tag !== undefined && { tag: meta.tag }),
      ...(meta.logFile !== undefined && { logFile: meta.logFile })
    })
  }

  static usage(message: string) {
    return new CliFailure({ message, exitCode: ExitCode.usage })
  }

  /** Ended by SIGHUP (its terminal closed) or SIGTERM, after putting things back: 128 + the signal, as a shell says it. */
  static signalled(message: string, signal: "SIGHUP" | "SIGTERM") {
    return new CliFailure({ message, exitCode: signal === "SIGHUP" ? ExitCode.hangup : ExitCode.terminated })
  }

  /** Ctrl-C while the command waited: what it leaves behind, said. */
  static interrupted(message: string) {
    return new CliFailure({ message, exitCode: ExitCode.interrupted })
  }
}
