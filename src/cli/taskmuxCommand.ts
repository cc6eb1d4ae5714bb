/**
 * The commands a person types: `taskmux ps | logs | stop | restart | start | remove | wait | attach | ui`.
 * Each is a thin client of the project's supervisor (it never touches a process itself), in commands/: it
 * calls one of the tools an assistant calls, and renders the answer for a terminal, or as JSON with --json.
 */
import { Command } from "effect/cli"
import { attachCommand } from "./commands/attachCommand.ts"
import { logsCommand } from "./commands/logsCommand.ts"
import { psCommand } from "./commands/psCommand.ts"
import { removeCommand } from "./commands/removeCommand.ts"
import { restartCommand, startCommand } from "./commands/startAndRestart.ts"
import { stopCommand } from "./commands/stopCommand.ts"
import { uiCommand } from "./commands/uiCommand.ts"
import { waitCommand } from "./commands/waitCommand.ts"

export const taskmuxCommand = Command.make("taskmux").pipe(
  Command.withDescription(
    [
      "Look at and steer the tasks of a project's taskmux supervisor from a terminal.",
      "Without a command, taskmux serves MCP on stdio (taskmux --help lists its options).",
      "",
      "Exit codes:",
      "  0    done (ps: also when no supervisor runs; logs -f: also at the task's end, which --json's",
      "       last line says; wait: it is ready; attach: also on Ctrl-] or the task's clean end)",
      "  1    the operation failed: the supervisor answered an error (an unknown task name, ...), or none",
      "       runs, or the output could not be written; start, restart and wait: the task crashed at once,",
      "       was not ready in time, or ended before it was ready; attach: it crashed or failed while attached",
      "  2    usage: an unknown command or flag, a missing argument, attach without a terminal",
      "  130  Ctrl-C (the CLI ends by SIGINT, so a script running it stops too): while start, restart or wait",
      "       waited (what was started keeps running), while stop waited, or while logs -f followed",
      "  129, 143  attach ended by SIGHUP or SIGTERM (the task keeps running)"
    ].join("\n  ")
  ),
  Command.withSubcommands([
    psCommand,
    logsCommand,
    stopCommand,
    restartCommand,
    startCommand,
    removeCommand,
    waitCommand,
    attachCommand,
    uiCommand
  ]),
  Command.withExamples([
    { command: "taskmux ps", description: "The tasks of the project in the working directory" },
    { command: "taskmux logs -f web --tail 20", description: "The last 20 lines of web, then new ones as they come" },
    { command: "taskmux attach repl", description: "Type into a terminal task; Ctrl-] to detach" },
    { command: "taskmux ui", description: "A live page of the tasks in the browser" }
  ])
)
