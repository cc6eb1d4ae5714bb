/** Entry point: serve until the client goes away or a signal arrives, then end every task. */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit } from "effect"
import { parseCommandLine } from "./Config.ts"
import { McpServer } from "./mcp/McpServer.ts"
import { ServerLayer } from "./Server.ts"

const command = parseCommandLine(process.argv.slice(2))

const main = command._tag === "Print"
  // --help and --version: no protocol session, so the text goes to stdout like any CLI's.
  ? Effect.sync(() => process.stdout.write(command.text))
  : command._tag === "Invalid"
  ? Effect.fail(command.error)
  : Effect.flatMap(Effect.service(McpServer), (server) => server.closed).pipe(Effect.provide(ServerLayer(command.env)))

function messageOf(error: unknown) {
  return error instanceof Error ? error.message : String(error)
}

NodeRuntime.runMain(
  // One plain line on stderr: never a stack trace, never anything on stdout.
  Effect.tapCause(
    main,
    (cause) =>
      Effect.sync(() =>
        Cause.hasInterruptsOnly(cause) || process.stderr.write(`taskmux: ${messageOf(Cause.squash(cause))}\n`)
      )
  ),
  {
    disableErrorReporting: true,
    teardown: (exit, onExit) => onExit(Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause) ? 1 : 0)
  }
)
