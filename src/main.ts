/** Entry point: serve until the client goes away or a signal arrives, then end every task. */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit } from "effect"
import { McpServer } from "./mcp/McpServer.ts"
import { ServerLayer } from "./Server.ts"

const main = Effect.flatMap(Effect.service(McpServer), (server) => server.closed).pipe(
  Effect.provide(ServerLayer),
  // One plain line on stderr: never a stack trace, never anything on stdout.
  Effect.tapCause((cause) => Effect.sync(() => Cause.hasInterruptsOnly(cause) || process.stderr.write(`taskmux: ${messageOf(Cause.squash(cause))}\n`)))
)

function messageOf(error: unknown) {
  return error instanceof Error ? error.message : String(error)
}

NodeRuntime.runMain(main, {
  disableErrorReporting: true,
  teardown: (exit, onExit) => onExit(Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause) ? 1 : 0)
})
