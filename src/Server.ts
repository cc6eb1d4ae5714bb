/**
 * The whole server as one Layer: configuration, the task supervisor, and the MCP
 * endpoint over stdio, with logs on stderr (stdout carries the protocol only).
 */
import { Layer, Logger } from "effect"
import { TaskmuxConfig } from "./Config.ts"
import { McpServer } from "./mcp/McpServer.ts"
import { TaskRegistry } from "./tasks/TaskRegistry.ts"

export const ServerLayer = McpServer.layerStdio.pipe(
  Layer.provide(TaskRegistry.layer),
  Layer.provide(TaskmuxConfig.layer),
  Layer.provide(Layer.succeed(Logger.LogToStderr, true))
)
