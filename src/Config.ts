/**
 * Every option of the server, read once at start from the environment (`TASKMUX_*`)
 * and validated: a bad value stops the server before any protocol traffic.
 */
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
}

export const defaults: TaskmuxOptions = {
  bufferLines: 10_000,
  bufferBytes: 4 * 1024 * 1024,
  maxLineBytes: 8 * 1024,
  killGraceMs: 5_000,
  shutdownGraceMs: 1_000,
  readMaxBytes: 32 * 1024
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
        readMaxBytes: yield* positiveInt("TASKMUX_READ_MAX_BYTES", defaults.readMaxBytes)
      })
    }).pipe(Effect.mapError((error) =>
      new InvalidConfig({
        issue: Schema.isSchemaError(error.cause) ? formatSchemaError(error.cause) : error.message
      })
    ))
  )

  /** Fixed options for tests. */
  static readonly layerTest = (options: Partial<TaskmuxOptions> = {}): Layer.Layer<TaskmuxConfig> =>
    Layer.succeed(TaskmuxConfig, TaskmuxConfig.of({ ...defaults, ...options }))
}
