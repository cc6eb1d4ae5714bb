/**
 * The whole server as one Layer: configuration, the task supervisor and its exit
 * notifier, and the MCP endpoint over stdio, with logs on stderr (stdout carries the protocol only);
 * and the project's supervisor (`SupervisorLayer`): the same, serving sessions over its socket.
 */
import { Effect, Layer, Logger } from "effect"
import { TaskmuxConfig } from "./Config.ts"
import { Daemon } from "./daemon/Daemon.ts"
import { LostTasks } from "./daemon/LostTasks.ts"
import type { RuntimePaths } from "./daemon/runtimePaths.ts"
import { McpServer } from "./mcp/McpServer.ts"
import { Watchdog } from "./process/Watchdog.ts"
import { ChainClaims } from "./project/ChainClaims.ts"
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

/** What every session is served with: the tasks, the project file and its chains, tracing, configuration, logs on stderr. */
const Shared = <E>(
  config: Layer.Layer<TaskmuxConfig, E>,
  lost: Layer.Layer<LostTasks, never, TaskRegistry | Notifier>
) =>
  Layer.mergeAll(lost.pipe(Layer.provideMerge(TasksLayer)), Project.layer, ChainClaims.layer).pipe(
    Layer.provideMerge(Tracing),
    Layer.provideMerge(config),
    Layer.provide(Layer.succeed(Logger.LogToStderr, true))
  )

/** One client over stdio, alone (`--isolated`): configured by `TASKMUX_*` settings from the command line over the environment. */
export const ServerLayer = (settings: Record<string, string>, note?: string) =>
  McpServer.layerStdio(note).pipe(
    Layer.provide(Shared(TaskmuxConfig.layerFrom({ ...settings, TASKMUX_ISOLATED: "true" }), LostTasks.layerNone))
  )

/** Completes when the stdio client goes away. */
export const McpServerClosed = Effect.flatMap(Effect.service(McpServer), (server) => server.closed)

/** The project's supervisor, with the configuration it was started with: every session, over its socket; `readyFd` as Daemon.layer takes it. */
export const SupervisorLayer = (
  config: TaskmuxConfig["Service"],
  paths: RuntimePaths,
  args: ReadonlyArray<string>,
  readyFd?: number
) =>
  Daemon.layer(paths, args, readyFd).pipe(
    Layer.provide(Shared(Layer.succeed(TaskmuxConfig, config), LostTasks.layerRecorded(paths)))
  )

/** Completes when the supervisor has nothing left to do. */
export const DaemonDone = Effect.flatMap(Effect.service(Daemon), (daemon) => daemon.done)
