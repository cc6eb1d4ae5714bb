/**
 * The whole server as one Layer: configuration, the task supervisor and its exit
 * notifier, and the MCP endpoint over stdio, with logs on stderr (stdout carries the protocol only).
 */
import { Layer, Logger } from "effect"
import { TaskmuxConfig } from "./Config.ts"
import { McpServer } from "./mcp/McpServer.ts"
import { Notifier } from "./tasks/Notifier.ts"
import { TaskRegistry } from "./tasks/TaskRegistry.ts"
import { Watchdog } from "./tasks/Watchdog.ts"

/** The supervisor, the events it publishes and its watchdog; needs only the configuration. */
export const TasksLayer = TaskRegistry.layer.pipe(Layer.provideMerge(Notifier.layer), Layer.provide(Watchdog.layer))

/** The server, configured by `TASKMUX_*` settings from the command line over the environment. */
export const ServerLayer = (settings: Record<string, string>) =>
  McpServer.layerStdio.pipe(
    Layer.provide(TasksLayer),
    Layer.provide(TaskmuxConfig.layerFrom(settings)),
    Layer.provide(Layer.succeed(Logger.LogToStderr, true))
  )
