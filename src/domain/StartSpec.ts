/**
 * The parts of a start that both `start_task` and a project's task file take, one Schema each, so
 * the tool and the file cannot drift: when a task is ready (`waitFor`) and when it restarts.
 */
import { Schema } from "effect"

/** A TCP port to listen on, or "any" for the first one the task listens on. */
export const PortWanted = Schema.Union([
  Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 })),
  Schema.Literal("any")
])

/** A time in ms a caller may ask the server to hold on for: ten minutes at most (a wait, a stop's grace). */
export const UpToTenMinutesMs = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 600_000 }))

export const TimeoutMs = UpToTenMinutesMs.annotate({
  description: "Default 30000 (exit: 300000)."
})

/** How long a wait lasts unless told: a ready line comes in seconds; a build or a test run takes minutes. */
export const defaultTimeoutMs = (exit: boolean | undefined): number => exit === true ? 300_000 : 30_000

/** When a task is ready: a line, a port, or its end. */
export const WaitForSpec = Schema.Struct({
  pattern: Schema.optionalKey(Schema.String),
  port: Schema.optionalKey(PortWanted),
  exit: Schema.optionalKey(Schema.Boolean),
  timeoutMs: Schema.optionalKey(TimeoutMs)
})

/** A waitFor's end and port: a wait answers on one of them, so both at once is a mistake. */
export const exitAndPortIssue = (prefix: string) =>
  `${prefix}exit waits for the end and ${prefix}port for a listening port: pass one of them`

/**
 * What is wrong with a start's waitFor (`prefix` is where it sits, "waitFor."), or undefined: the tool
 * and the file refuse the same ones, or the file's `waitFor: {}` would wait for the end unasked.
 */
export const waitForIssue = (
  w: { readonly pattern?: string; readonly port?: number | "any"; readonly exit?: boolean },
  prefix: string
): string | undefined => {
  if (w.exit === true && w.port !== undefined) return exitAndPortIssue(prefix)
  if (w.pattern === undefined && w.port === undefined && w.exit !== true) {
    return `${
      prefix === "" ? "" : `${prefix.replace(/\.$/, "")} `
    }needs a pattern (a regex for the ready line), a port (a number, or ` +
      `"any") or exit: true (the end)`
  }
  return undefined
}

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** When a task that ended by itself starts again (see RestartPolicy). */
export const RestartSpec = Schema.Struct({
  policy: Schema.Literals(["no", "on-failure", "always"]),
  maxRestarts: Schema.optionalKey(NonNegativeInt.annotate({ description: "In a row.", default: 5 })),
  backoffMs: Schema.optionalKey(NonNegativeInt.annotate({ description: "First delay, doubling.", default: 500 })),
  maxBackoffMs: Schema.optionalKey(NonNegativeInt.annotate({ default: 30_000 }))
})
