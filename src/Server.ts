/**
 * The whole server as one Layer: configuration, the task supervisor and its exit
 * notifier, and the MCP endpoint over stdio, with logs on stderr (stdout carries the protocol only).
 */
import { Layer, Logger } from "effect"
import { TaskmuxConfig } from "./Config.ts"
import { McpServer } from "./mcp/McpServer.ts"
import { Notifier } from "./tasks/Notifier.ts"
import { TaskRegistry } from "./tasks/TaskRegistry.ts"

/** The supervisor and the events it publishes; needs only the configuration. */
export const TasksLayer = TaskRegistry.layer.pipe(Layer.provideMerge(Notifier.layer))

export const ServerLayer = McpServer.layerStdio.pipe(
  Layer.provide(TasksLayer),
  Layer.provide(TaskmuxConfig.layer),
  Layer.provide(Layer.succeed(Logger.LogToStderr, true))
)
