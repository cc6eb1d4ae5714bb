/**
 * What a command reads and writes: the process's streams, environment and working directory. A
 * service, so tests run commands in-process and read what they printed.
 */
import { Context, Effect, Layer } from "effect"
import { shownSafely } from "./terminalText.ts"

/**
 * Colours on a terminal, unless NO_COLOR (https://no-color.org: present and not empty) or TERM=dumb; FORCE_COLOR
 * decides over both, as for Node and most CLIs: 0 or false none, anything else colours (a CI log that shows them).
 */
export const wantsColour = (isTTY: boolean, env: NodeJS.ProcessEnv) =>
  env.FORCE_COLOR !== undefined
    ? env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false"
    : isTTY && (env.NO_COLOR === undefined || env.NO_COLOR === "") && env.TERM !== "dumb"

/**
 * How wide a table may be: a terminal's width; a terminal of no size (a pty that `script`, expect or a CI
 * runner made and never sized) COLUMNS, else whole lines; a pipe's lines are whole.
 */
export const terminalColumns = (isTTY: boolean, columns: number | undefined, env: NodeJS.ProcessEnv) =>
  isTTY ? columns || Number(env.COLUMNS) || undefined : undefined

let sigintHeard = false
/** Whether a Ctrl-C ended a wait: the process then ends by SIGINT itself (runCliProcess), as a shell loop needs. */
export const sigintSeen = () => sigintHeard

const sigint = Effect.callback<void>((resume) => {
  const stop = () => {
    sigintHeard = true
    resume(Effect.void)
  }
  process.once("SIGINT", stop)
  return Effect.sync(() => process.off("SIGINT", stop))
})

let writeFailure: NodeJS.ErrnoException | undefined
/**
 * What writing stdout failed with, other than its reader going away (a full disk, an I/O error): the
 * command then exits 1 saying so (runCliProcess), as `echo x >/dev/full` does, not 0 with its output lost.
 */
export const stdoutFailure = () => writeFailure

/** stdout's reader went away (`taskmux logs -f web | head`), or it cannot be written: writing more would only fail. */
const stdoutClosed = Effect.callback<void>((resume) => {
  const onError = () => resume(Effect.void)
  process.stdout.on("error", onError)
  return Effect.sync(() => process.stdout.off("error", onError))
})

export class CliIo extends Context.Service<CliIo, {
  /** Prints text (a control character in it is shown, not obeyed: see shownSafely). */
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  /** Colours on stdout: a terminal, and no NO_COLOR. */
  readonly colour: boolean
  /** Colours on stderr, which may be a file while stdout is a terminal (`2>err.txt`). */
  readonly colourErr: boolean
  /** The terminal's width, when stdout is one. */
  readonly columns: number | undefined
  /** stdout is a terminal: what is for a person only (a table's footer) goes to stderr when it is not. */
  readonly terminal: boolean
  readonly cwd: string
  readonly env: NodeJS.ProcessEnv
  /**
   * Settles when the person asks to stop (Ctrl-C) or nobody reads any more (stdout's pipe closed):
   * following commands end there, cleanly.
   */
  readonly stopRequested: Effect.Effect<void>
  /**
   * Settles once what was printed has been taken by stdout's reader: a follower reads on only then, so
   * a pipe nobody empties (`logs -f web | slow`) holds it, not its memory. Absent: at once.
   */
  readonly drained?: Effect.Effect<void>
  /** Says that the command prints a stream of JSON lines (logs -f --json): a failure is its last line. */
  readonly streaming?: () => void
  /** The process's own streams, for attach (raw mode, size); absent in tests that run in-process. */
  readonly tty?: {
    readonly stdin: NodeJS.ReadStream
    readonly stdout: NodeJS.WriteStream
  }
}>()("taskmux/cli/CliIo") {
  static readonly layer: Layer.Layer<CliIo> = Layer.sync(CliIo, () => {
    // A closed pipe (or a hung-up terminal) is reported as an error event: without a listener it would
    // crash the process (stderr's is heard in main.ts).
    process.stdout.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") writeFailure ??= error
    })
    return {
      stdout: (text) => {
        if (process.stdout.writable) process.stdout.write(shownSafely(text))
      },
      stderr: (text) => {
        process.stderr.write(shownSafely(text))
      },
      colour: wantsColour(process.stdout.isTTY === true, process.env),
      colourErr: wantsColour(process.stderr.isTTY === true, process.env),
      columns: terminalColumns(process.stdout.isTTY === true, process.stdout.columns, process.env),
      terminal: process.stdout.isTTY === true,
      cwd: process.cwd(),
      env: process.env,
      stopRequested: Effect.raceFirst(sigint, stdoutClosed),
      drained: Effect.callback<void>((resume) => {
        if (!process.stdout.writableNeedDrain) return resume(Effect.void)
        const done = () => resume(Effect.void)
        process.stdout.once("drain", done).once("close", done)
        return Effect.sync(() => process.stdout.off("drain", done).off("close", done))
      }),
      tty: { stdin: process.stdin, stdout: process.stdout }
    }
  })
}
