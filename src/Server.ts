/**
 * The whole server as one Layer: configuration, the task supervisor and its exit
 * notifier, and the MCP endpoint over stdio, with logs on stderr (stdout carries the protocol only).
 */
import { Effect, Layer, Logger } from "effect"
import { TaskmuxConfig } from "./Config.ts"
import { McpServer } from "./mcp/McpServer.ts"
import { Watchdog } from "./process/Watchdog.ts"
import { Project } from "./project/Project.ts"
import { Notifier } from "./supervisor/Notifier.ts"
import { TaskRegistry } from "./supervisor/TaskRegistry.ts"
import { TracingLayer } from "./Tracing.ts"

/** The supervisor, the events it publishes and its watchdog; needs only the configuration. */
export const TasksLayer = TaskRegistry.layer.pipe(Layer.provideMerge(Notifier.layer), Layer.provide(Watchdog.layer))

/** Spans to stderr with --trace, to a collector with OTEL_EXPORTER_OTLP_ENDPOINT, else none. */
const Tracing = Layer.unwrap(
  Effect.map(
    Effect.service(TaskmuxConfig),
    (config) =>
      TracingLayer({ trace: config.trace, otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined })
  )
)

/** The server, configured by `TASKMUX_*` settings from the command line over the environment. */
export const ServerLayer = (settings: Record<string, string>) =>
  McpServer.layerStdio.pipe(
    Layer.provide(TasksLayer),
    Layer.provide(Project.layer),
    Layer.provide(Tracing),
    Layer.provide(TaskmuxConfig.layerFrom(settings)),
    Layer.provide(Layer.succeed(Logger.LogToStderr, true))
  )
