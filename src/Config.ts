/**
 * Every option of the server, read once at start from the environment (`TASKMUX_*`)
 * and validated: a bad value stops the server before any protocol traffic.
 */
import * as os from "node:os"
import * as NodePath from "node:path"
import { Config, Context, Effect, Layer, Schema } from "effect"
import { formatSchemaError, InvalidConfig } from "./domain/errors.ts"

export interface TaskmuxOptions {
  /** Most lines each task's output buffer holds. */
  readonly bufferLines: number
  /** Most bytes each task's output buffer holds. */
  readonly bufferBytes: number
  /** Longer lines are cut into pieces of this many bytes. */
  readonly maxLineBytes: number
  /** `stop_task`'s default wait between SIGTERM and SIGKILL. */
  readonly killGraceMs: number
  /** Wait between SIGTERM and SIGKILL when the server shuts down (clients kill it 2 s after closing stdin). */
  readonly shutdownGraceMs: number
  /** Default cap on the text of one `read_output` answer. */
  readonly readMaxBytes: number
  /** Where each run's complete output is written. */
  readonly logDir: string
  /** Most bytes written to one run's log file. */
  readonly logMaxBytes: number
}

/** `$XDG_STATE_HOME/taskmux/logs`, else `~/.local/state/taskmux/logs`, else under the OS temp dir. */
export const defaultLogDir = (env: NodeJS.ProcessEnv = process.env): string => {
  const home = env.HOME ?? os.homedir()
  const state = env.XDG_STATE_HOME ?? (home ? NodePath.join(home, ".local", "state") : undefined)
  return state ? NodePath.join(state, "taskmux", "logs") : NodePath.join(os.tmpdir(), "taskmux-logs")
}

export const defaults: TaskmuxOptions = {
  bufferLines: 10_000,
  bufferBytes: 4 * 1024 * 1024,
  maxLineBytes: 8 * 1024,
  killGraceMs: 5_000,
  shutdownGraceMs: 1_000,
  readMaxBytes: 32 * 1024,
  logDir: defaultLogDir(),
  logMaxBytes: 64 * 1024 * 1024
}

const positiveInt = (name: string, fallback: number) =>
  Config.schema(
    Schema.FiniteFromString.check(Schema.isInt({ message: "expected a positive integer" }), Schema.isGreaterThan(0, { message: "expected a positive integer" })),
    name
  ).pipe(
    Config.withDefault(fallback)
  )

export class TaskmuxConfig extends Context.Service<TaskmuxConfig, TaskmuxOptions>()("taskmux/Config") {
  /** Reads the environment. */
  static readonly layer: Layer.Layer<TaskmuxConfig, InvalidConfig> = Layer.effect(
    TaskmuxConfig,
    Effect.gen(function*() {
      return TaskmuxConfig.of({
        bufferLines: yield* positiveInt("TASKMUX_BUFFER_LINES", defaults.bufferLines),
        bufferBytes: yield* positiveInt("TASKMUX_BUFFER_BYTES", defaults.bufferBytes),
        maxLineBytes: yield* positiveInt("TASKMUX_MAX_LINE_BYTES", defaults.maxLineBytes),
        killGraceMs: yield* positiveInt("TASKMUX_KILL_GRACE_MS", defaults.killGraceMs),
        shutdownGraceMs: yield* positiveInt("TASKMUX_SHUTDOWN_GRACE_MS", defaults.shutdownGraceMs),
        readMaxBytes: yield* positiveInt("TASKMUX_READ_MAX_BYTES", defaults.readMaxBytes),
        logDir: NodePath.resolve(yield* Config.String("TASKMUX_LOG_DIR").pipe(Config.withDefault(defaults.logDir))),
        logMaxBytes: yield* positiveInt("TASKMUX_LOG_MAX_BYTES", defaults.logMaxBytes)
      })
    }).pipe(Effect.mapError((error) =>
      new InvalidConfig({
        issue: Schema.isSchemaError(error.cause) ? formatSchemaError(error.cause) : error.message
      })
    ))
  )

  /** Fixed options for tests. */
  static readonly layerTest = (options: Partial<TaskmuxOptions> = {}): Layer.Layer<TaskmuxConfig> =>
    Layer.succeed(
      TaskmuxConfig,
      TaskmuxConfig.of({ ...defaults, logDir: NodePath.join(os.tmpdir(), `taskmux-test-logs-${process.pid}`), ...options })
    )
}
